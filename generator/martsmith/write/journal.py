"""Crash safety for every run that changes a project: the run journal, its recovery, and the
project lock.

A run that writes first records, in `target/martsmith_journal.json` (written atomically: temp
file, fsync, rename), everything needed to undo it: who runs (pid, command, start time), each
file it will write with its previous bytes (null: the file did not exist), the directories it
will create, the relations that existed in the warehouse before, the relations it may create or
replace (`guarded`) and each backup it makes. The journal is updated as the run goes (before each
backup, when dbt starts, at commit) and deleted once the run has committed or rolled itself back.

A journal still there when a command starts was left by a run that died (kill -9, OOM, power
loss): `recover_journal` rolls it back — files byte-identical, created folders removed when
empty, relations the run created dropped, replaced ones put back — and each command does that
before anything else (see commands/options.py, project_options), or `martsmith recover` explicitly.

The project lock (`target/martsmith.lock`, an flock through filelock) is held by every run that
writes, from before it reads the project until it is done, so two martsmith commands on one
project never interleave. A journal is recovered only by a process that holds the lock: had its
owner still been running, it would hold it (flock dies with its process).

target/ is dbt's artifacts folder (git-ignored): nothing here is user content.
"""

from __future__ import annotations

import base64
import datetime as dt
import errno
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import ProjectError, UsageError, WriteRefused

if TYPE_CHECKING:
    from martsmith.context.project import Project

JOURNAL_NAME = "martsmith_journal.json"
LOCK_NAME = "martsmith.lock"
OWNER_NAME = "martsmith.lock.owner"  # pid and command of the lock's holder, for the waiting line
BACKUP_PREFIX = "__martsmith_backup__"
# dbt-duckdb materializes `x` through `x__dbt_tmp` and moves the old one to `x__dbt_backup`.
DBT_TEMP_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
DEFAULT_LOCK_TIMEOUT = 60.0
FORMAT_VERSION = 1


def artifacts_dir(project: Project) -> Path:
    """dbt's artifacts folder of the project (`target-path`, default target/)."""
    return project.root / str(project.config.get("target-path") or "target")


def journal_path(project: Project) -> Path:
    return artifacts_dir(project) / JOURNAL_NAME


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """The whole file or the old one, even across a crash: temp file, fsync, rename, fsync.

    A file the user made read-only is refused as writing it in place would be (PermissionError),
    although a rename could replace it; the new file keeps the old one's permissions; a failed
    write leaves no temp file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exists = path.exists()
    if exists and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exists:
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def own_temp_relation(name: str, allowed_names: Iterable[str] = ()) -> bool:
    """A relation martsmith (a backup) or dbt (a temp of an allowed name) makes on the way."""
    low = name.lower()
    if low.startswith(BACKUP_PREFIX):
        return True
    return any(low == a.lower() + suffix for a in allowed_names for suffix in DBT_TEMP_SUFFIXES)


# ---------------------------------------------------------------------------------------------
# The journal


class Journal:
    """The undo record of one run. Mutators change it in memory; `save()` makes it durable and
    is called by FileTransaction / RelationGuard before each change it covers."""

    def __init__(self, root: Path, path: Path, data: dict[str, Any] | None = None) -> None:
        self.root = root
        self.path = path
        self.data: dict[str, Any] = data or {
            "version": FORMAT_VERSION,
            "pid": os.getpid(),
            "command": "martsmith",
            "argv": list(sys.argv),
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "state": "running",
            "files": [],  # [{"path": relative path, "before": base64 | null}]
            "dirs": [],  # relative paths, parents first
            "guarded": [],  # [[schema, name]] the run may create or replace
            "relations_before": None,  # [[schema, name]] every user relation before the run
            "backups": [],  # [{"schema", "name", "kind": "table", "backup"} | {..., "kind": "view", "sql"}]
            "dbt_started": False,
        }
        self.saved = False

    @classmethod
    def for_project(cls, project: Project, command: str | None = None) -> Journal:
        journal = cls(project.root, journal_path(project))
        journal.data["command"] = command or held_command(project) or "martsmith"
        return journal

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root.resolve()).as_posix() if path.is_absolute() else path.as_posix()

    def add_file(self, path: Path, before: bytes | None) -> None:
        self.data["files"].append(
            {"path": self._rel(path), "before": None if before is None else base64.b64encode(before).decode("ascii")}
        )

    def add_dirs(self, dirs: Iterable[Path]) -> None:
        for d in dirs:
            rel = self._rel(d)
            if rel not in self.data["dirs"]:
                self.data["dirs"].append(rel)

    def set_relations(self, guarded: Iterable[tuple[str, str]], before: Iterable[tuple[str, str]]) -> None:
        self.data["guarded"] = sorted([s, n] for s, n in guarded)
        self.data["relations_before"] = sorted([s, n] for s, n in before)

    def add_backup(
        self, schema: str, name: str, kind: str, *, backup: str | None = None, sql: str | None = None
    ) -> None:
        entry: dict[str, Any] = {"schema": schema, "name": name, "kind": kind}
        entry.update({"backup": backup} if kind == "table" else {"sql": sql})
        self.data["backups"].append(entry)

    def mark_dbt_started(self) -> None:
        self.data["dbt_started"] = True
        self.save()

    def mark_committed(self) -> None:
        """The commit point: from here on, recovery finishes the run instead of undoing it."""
        self.data["state"] = "committed"
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1).encode())
        self.saved = True

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)
        self.saved = False


# ---------------------------------------------------------------------------------------------
# Recovery


@dataclass
class Recovery:
    """What recovering an interrupted run did."""

    command: str
    pid: int
    started: str
    committed: bool = False  # the run had reached its commit point: finished, not undone
    files: list[str] = field(default_factory=list)  # restored or removed
    dirs: list[str] = field(default_factory=list)  # removed
    dropped: list[str] = field(default_factory=list)  # relations the run created
    restored: list[str] = field(default_factory=list)  # relations put back as they were

    def summary(self) -> str:
        def n(count: int, what: str) -> str:
            return f"{count} {what}{'' if count == 1 else 's'}"

        parts = []
        if self.files:
            parts.append("restored " + n(len(self.files), "file"))
        if self.dirs:
            parts.append("removed " + n(len(self.dirs), "folder"))
        if self.dropped:
            parts.append("dropped " + n(len(self.dropped), "relation"))
        if self.restored:
            parts.append("put back " + n(len(self.restored), "relation"))
        done = ", ".join(parts) or "nothing needed undoing"
        if self.committed:
            return f"Finished an interrupted commit of `{self.command}` (pid {self.pid}): {done}."
        return f"Recovered from an interrupted run of `{self.command}` (pid {self.pid}): {done}."

    def as_dict(self) -> dict:
        return asdict(self)


def _inside(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if root.resolve() not in path.parents:
        raise ProjectError(
            f"The martsmith journal names {rel}, outside the project: not touching it.",
            hint="Inspect target/martsmith_journal.json; delete it to go on without recovery.",
        )
    return path


def _single_create_view(wh: Warehouse, sql: str) -> bool:
    """Only a lone CREATE VIEW is replayed from a journal (it is a file on disk)."""
    return wh.is_single_create_view(sql)


def _recover_relations(wh: Warehouse, data: dict, rec: Recovery) -> None:
    def drop(schema: str, name: str) -> None:
        kind = wh.relation_kind(schema, name)
        if kind:
            wh.execute(f"drop {kind} if exists {quote(schema)}.{quote(name)} cascade")

    started = bool(data.get("dbt_started"))
    for b in data.get("backups") or []:
        schema, name = b["schema"], b["name"]
        if b["kind"] == "table":
            backup = b["backup"]
            if not backup.startswith(BACKUP_PREFIX) or wh.relation_kind(schema, backup) is None:
                continue  # never made, or already put back
            if started:  # dbt may have replaced the original: the backup is the truth
                drop(schema, name)
                wh.execute(f"alter table {quote(schema)}.{quote(backup)} rename to {quote(name)}")
                rec.restored.append(f"{schema}.{name}")
            else:  # dbt never ran: the original is untouched, the copy is just a leftover
                wh.execute(f"drop table if exists {quote(schema)}.{quote(backup)}")
                rec.dropped.append(f"{schema}.{backup}")
        elif started and _single_create_view(wh, b.get("sql") or ""):
            drop(schema, name)
            wh.query_native(b["sql"])  # the engine's own statement, as it gave it
            rec.restored.append(f"{schema}.{name}")
    before = data.get("relations_before")
    if before is None:
        return  # the run stopped before it touched the warehouse
    existed = {(s.lower(), n.lower()) for s, n in before}
    guarded = {(s.lower(), n.lower()) for s, n in data.get("guarded") or []}
    names = [n for _, n in guarded]
    # Only what this run could have made: relations that appeared since among its own names.
    # Anything else that appeared since (the user's own dbt run after the crash) is left alone.
    for schema, name in sorted(wh.relations()):
        key = (schema.lower(), name.lower())
        if key in existed:
            continue
        if key in guarded or own_temp_relation(name, names):
            drop(schema, name)
            rec.dropped.append(f"{schema}.{name}")


def _finish_commit(wh: Warehouse, data: dict, rec: Recovery) -> None:
    for b in data.get("backups") or []:
        if (
            b["kind"] == "table"
            and b["backup"].startswith(BACKUP_PREFIX)
            and wh.relation_kind(b["schema"], b["backup"])
        ):
            wh.execute(f"drop table if exists {quote(b['schema'])}.{quote(b['backup'])}")
            rec.dropped.append(f"{b['schema']}.{b['backup']}")


def read_journal(project: Project) -> dict | None:
    path = journal_path(project)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a martsmith journal of this version")
    except (OSError, ValueError) as exc:
        raise ProjectError(
            f"{path.relative_to(project.root)} cannot be read as a martsmith journal: {exc}",
            hint="Inspect it; delete it to go on without recovering that run.",
        ) from exc
    return data


def recover_journal(project: Project) -> Recovery | None:
    """Roll back (or, past its commit point, finish) the run a left-over journal describes.
    The caller holds the project lock. None when there is no journal."""
    data = read_journal(project)
    if data is None:
        return None
    rec = Recovery(
        command=str(data.get("command", "martsmith")),
        pid=int(data.get("pid", 0)),
        started=str(data.get("started", "")),
        committed=data.get("state") == "committed",
    )
    touched_warehouse = data.get("relations_before") is not None or data.get("backups")
    db = project.duckdb_path
    if touched_warehouse and (project.adapter_type != "duckdb" or (db is not None and db.exists())):
        with Warehouse(project) as wh:
            (_finish_commit if rec.committed else _recover_relations)(wh, data, rec)
    if not rec.committed:
        root = project.root
        for entry in reversed(data.get("files") or []):
            path = _inside(root, entry["path"])
            before = entry.get("before")
            if before is None:
                if path.exists():
                    path.unlink()
                    rec.files.append(entry["path"])
                continue
            content = base64.b64decode(before)
            if not path.is_file() or path.read_bytes() != content:
                write_atomic(path, content)
                rec.files.append(entry["path"])
        for rel in reversed(data.get("dirs") or []):
            d = _inside(root, rel)
            try:
                d.rmdir()  # only when empty: something else put there meanwhile stays
                rec.dirs.append(rel)
            except OSError:
                pass
    journal_path(project).unlink(missing_ok=True)
    _fsync_dir(journal_path(project).parent)
    return rec


# ---------------------------------------------------------------------------------------------
# The project lock


@dataclass
class _Hold:
    lock: Any  # filelock.FileLock
    depth: int
    command: str


_HOLDS: dict[Path, _Hold] = {}


def _lock_path(project: Project) -> Path:
    return (artifacts_dir(project) / LOCK_NAME).absolute()


def held_command(project: Project) -> str | None:
    """The command of this process holding the project's lock, if it does."""
    hold = _HOLDS.get(_lock_path(project))
    return hold.command if hold else None


def lock_timeout() -> float:
    raw = os.environ.get("MARTSMITH_LOCK_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(float(raw), 0.0)
    except ValueError:
        raise UsageError(f"MARTSMITH_LOCK_TIMEOUT must be a number of seconds, not {raw!r}.") from None


def _owner(lock_path: Path) -> dict:
    try:
        data = json.loads((lock_path.parent / OWNER_NAME).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _say(message: str) -> None:
    import click

    click.echo(message, err=True)


def _try_acquire(lock: Any) -> bool:
    from filelock import Timeout

    try:
        lock.acquire(blocking=False)
    except Timeout:
        return False
    return True


@contextmanager
def project_lock(project: Project, command: str = "martsmith", *, recover: bool = True) -> Iterator[Recovery | None]:
    """Hold the project's lock for the enclosed run, waiting for another run to finish (at most
    MARTSMITH_LOCK_TIMEOUT seconds, default 60; then WriteRefused). Re-entrant in one process.
    Once held, a journal left by a dead run is recovered (unless `recover=False`) and the
    Recovery yielded (None when nothing was recovered or the lock was already held here)."""
    from filelock import FileLock, Timeout

    path = _lock_path(project)
    hold = _HOLDS.get(path)
    if hold is not None:
        hold.depth += 1
        try:
            yield None
        finally:
            hold.depth -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), thread_local=False)
    if not _try_acquire(lock):
        owner = _owner(path)
        who = f"pid {owner['pid']}" if owner.get("pid") else "pid unknown"
        _say(f"waiting for another martsmith run on this project ({who})…")
        timeout = lock_timeout()
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            what = f", `{owner['command']}`" if owner.get("command") else ""
            raise WriteRefused(
                f"Another martsmith run on this project ({who}{what}) still holds {path.name} after {timeout:g} s.",
                hint="Wait for it to finish and try again, or raise MARTSMITH_LOCK_TIMEOUT (seconds).",
            ) from None
    _HOLDS[path] = _Hold(lock, 1, command)
    try:
        owner_file = path.parent / OWNER_NAME
        owner_file.write_text(json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}))
        recovery = recover_journal(project) if recover else None
        if recovery is not None:
            _say(recovery.summary())
        yield recovery
    finally:
        del _HOLDS[path]
        (path.parent / OWNER_NAME).unlink(missing_ok=True)
        lock.release()


def recover_if_stale(project: Project) -> Recovery | None:
    """For commands that only read: recover a journal left by a dead run, if there is one and
    no live run holds the lock (then it is that run's own journal: leave it). Never waits."""
    from filelock import FileLock

    if not journal_path(project).is_file():
        return None
    path = _lock_path(project)
    if path in _HOLDS:
        return None  # this process is the run the journal belongs to
    lock = FileLock(str(path), thread_local=False)
    if not _try_acquire(lock):
        return None
    try:
        recovery = recover_journal(project)
    finally:
        lock.release()
    if recovery is not None:
        _say(recovery.summary())
    return recovery


# ---------------------------------------------------------------------------------------------
# Test-only hook

PAUSE_STAGES = ("file-written", "backup-created", "dbt-model-built", "dbt-done", "committing")


def pause_point(stage: str) -> None:
    """TEST-ONLY (tests/security/test_crash.py): with MARTSMITH_TEST_PAUSE_AT=<stage>, the
    process writes its pid to the file MARTSMITH_TEST_PAUSE_MARKER names and sleeps at `stage`
    so that the test can `kill -9` it exactly there. Without that variable (always, outside
    those tests) this does nothing."""
    if os.environ.get("MARTSMITH_TEST_PAUSE_AT") != stage:
        return
    marker = os.environ.get("MARTSMITH_TEST_PAUSE_MARKER")
    if marker:
        write_atomic(Path(marker), str(os.getpid()).encode())
    time.sleep(float(os.environ.get("MARTSMITH_TEST_PAUSE_SECONDS", "120")))
