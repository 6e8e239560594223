"""All-or-nothing changes to the project tree and the warehouse, and crash-safe.

`FileTransaction` writes files and remembers what was there before (bytes, or nothing; and the
directories it had to create), so that `rollback()` leaves the tree byte-identical.
`RelationGuard` remembers which relations existed in the warehouse before a dbt build and, on
rollback, drops the ones the run created and restores the ones it replaced (--force).
Both record what they are about to do in the run's `Journal` first (write/journal.py), so that a
run killed midway is rolled back by the next command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from martsmith.context import cache
from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import ProjectError, ValidationFailed, WarehouseChanged, WriteRefused
from martsmith.validate.findings import Finding
from martsmith.validate.jinja_allowlist import check_files_jinja
from martsmith.write.digest import Digest, changes, take_digest
from martsmith.write.journal import BACKUP_PREFIX, Journal, pause_point, project_lock, write_atomic

__all__ = ["BACKUP_PREFIX", "FileTransaction", "RelationGuard", "count_tests", "write_and_run"]


@dataclass
class FileTransaction:
    root: Path
    journal: Journal | None = None
    _before: dict[Path, bytes | None] = field(default_factory=dict)
    _created_dirs: list[Path] = field(default_factory=list)
    _written: set[Path] = field(default_factory=set)
    _touched: set[Path] = field(default_factory=set)  # writes attempted (only these need undoing)
    applied: bool = False

    def _resolve(self, relpath: str | Path) -> Path:
        path = (self.root / relpath).resolve()
        if self.root.resolve() not in path.parents:
            raise WriteRefused(f"Refusing to write {relpath}: it is outside the project.")
        return path

    def _remember(self, paths: list[Path]) -> None:
        """Record the previous contents of `paths` and the folders they need, in memory and in
        the journal (saved before anything is changed)."""
        new = [p for p in dict.fromkeys(paths) if p not in self._before]
        if not new:
            return
        dirs: list[Path] = []
        for path in new:
            self._before[path] = path.read_bytes() if path.exists() else None
            missing = []
            parent = path.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            dirs += [d for d in reversed(missing) if d not in dirs and d not in self._created_dirs]
        if self.journal is not None:
            for path in new:
                self.journal.add_file(path, self._before[path])
            self.journal.add_dirs(dirs)
            self.journal.save()

    def prepare(self, relpaths) -> None:
        """Check and record every path about to be written, in one journal update."""
        self._remember([self._resolve(p) for p in relpaths])

    def write(self, relpath: str | Path, content: str, *, overwrite: bool = False) -> Path:
        path = self._resolve(relpath)
        if path.exists() and not overwrite and path not in self._written:
            raise WriteRefused(f"{path.relative_to(self.root)} already exists.", hint="Use --force to replace it.")
        self._remember([path])
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            self._created_dirs.append(d)
        self._touched.add(path)
        write_atomic(path, content.encode())
        self._written.add(path)
        self.applied = True
        pause_point("file-written")
        return path

    @property
    def paths(self) -> list[Path]:
        return list(self._before)

    def rollback(self) -> None:
        """Every file written back to its old bytes (or removed), every folder made removed when
        empty. It carries on past a file it cannot restore and raises at the end, so that one
        failure does not leave the rest (the journal then stays for `martsmith recover`)."""
        failed: list[str] = []
        for path, before in self._before.items():
            if path not in self._touched:
                continue  # never written (a write that failed before opening it changed nothing)
            try:
                if before is None:
                    path.unlink(missing_ok=True)
                elif not path.exists() or path.read_bytes() != before:
                    write_atomic(path, before)
            except OSError as exc:
                failed.append(f"{path}: {exc.strerror or exc}")
        for d in reversed(self._created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass  # something else was put there meanwhile: leave it
        self._before.clear()
        self._created_dirs.clear()
        self._written.clear()
        self._touched.clear()
        if failed:
            raise WriteRefused(
                "Could not restore " + "; ".join(failed) + ".",
                hint="Run `martsmith recover` once the files are writable again.",
            )


@dataclass
class RelationGuard:
    """Protects the warehouse around a build of `relations` [(schema, name), ...] (which may be
    empty: then it only drops what the run created, e.g. around `dbt test`).

    `started` tells whether dbt has run since the backups were made (`dbt_starting()`): before
    that the originals are untouched and a rollback only drops the copies."""

    warehouse: Warehouse
    relations: list[tuple[str, str]]
    journal: Journal | None = None
    started: bool = True
    _existed: set[tuple[str, str]] = field(default_factory=set)
    _backups: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._before_all = self.warehouse.relations()
        if self.journal is not None:
            self.journal.set_relations(self.relations, self._before_all)
            self.journal.save()
        try:
            self._back_up()
        except BaseException:
            self.started = False  # dbt has not run: drop the copies made so far, touch nothing else
            self.rollback()
            raise
        self.warehouse.close()

    def _back_up(self) -> None:
        for schema, name in self.relations:
            kind = self.warehouse.relation_kind(schema, name)
            if kind is None:
                continue
            self._existed.add((schema, name))
            if kind == "view":
                sql = self.warehouse.view_definition(schema, name)
                self._backups[(schema, name)] = ("view", sql)
                if self.journal is not None:
                    self.journal.add_backup(schema, name, "view", sql=sql)
                    self.journal.save()
            else:
                backup = BACKUP_PREFIX + name
                if self.journal is not None:  # recorded first: a crash right after leaves no stray copy
                    self.journal.add_backup(schema, name, "table", backup=backup)
                    self.journal.save()
                self.warehouse.execute(
                    f"create or replace table {quote(schema)}.{quote(backup)} as "
                    f"select * from {quote(schema)}.{quote(name)}"
                )
                self._backups[(schema, name)] = ("table", backup)
                pause_point("backup-created")

    def dbt_starting(self) -> None:
        """Called right before dbt runs: from now on the originals may be replaced."""
        self.started = True
        if self.journal is not None:
            self.journal.mark_dbt_started()

    def rollback(self) -> None:
        wh = self.warehouse
        after = wh.relations()
        for schema, name in sorted(after - self._before_all):
            if name.startswith(BACKUP_PREFIX):
                continue
            kind = wh.relation_kind(schema, name)
            wh.execute(f"drop {'view' if kind == 'view' else 'table'} if exists {quote(schema)}.{quote(name)} cascade")
        for (schema, name), (kind, payload) in self._backups.items():
            if not self.started:  # dbt never ran: the originals are untouched, drop the copies
                if kind == "table":
                    wh.execute(f"drop table if exists {quote(schema)}.{quote(payload)}")
                continue
            if kind == "table" and wh.relation_kind(schema, payload) is None:
                continue  # the copy is gone (not by us): nothing to put back
            current = wh.relation_kind(schema, name)
            if current:
                wh.execute(f"drop {current} if exists {quote(schema)}.{quote(name)} cascade")
            if kind == "view":
                wh.query_native(payload)  # the engine's own statement, as it gave it
            else:
                wh.execute(f"alter table {quote(schema)}.{quote(payload)} rename to {quote(name)}")
        self._backups.clear()
        wh.close()

    def commit(self) -> None:
        for (schema, _), (kind, payload) in self._backups.items():
            if kind == "table":
                self.warehouse.execute(f"drop table if exists {quote(schema)}.{quote(payload)}")
        self._backups.clear()
        self.warehouse.close()


def refuse_unsafe_jinja(files: dict, root: Path) -> None:
    """The Jinja allowlist over every file of a write, before any of them is written: dbt
    executes what is in them, so a finding fails the run here (ValidationFailed, exit 6)."""
    findings = check_files_jinja(files, root)
    if findings:
        raise ValidationFailed(
            "Generated files contain Jinja martsmith did not mean to write; nothing was written:\n"
            + "\n".join(f"  {f}" for f in findings[:20])
            + (f"\n  … and {len(findings) - 20} more" if len(findings) > 20 else ""),
            findings,
            hint="A value from the warehouse, the request or the model answer looks like a template. "
            "Report it if martsmith wrote it from its own data.",
        )


def count_tests(nodes) -> tuple[int, int]:
    """(passed, warned) among the test results of a dbt run."""
    tests = [n for n in nodes if n.resource_type in ("test", "unit_test")]
    return sum(n.status == "pass" for n in tests), sum(n.status == "warn" for n in tests)


def _digest(project) -> Digest:
    with Warehouse(project) as wh:
        return take_digest(wh)


# dbt commands that parse the project before they run.
PARSING_COMMANDS = frozenset({"build", "compile", "run", "test", "seed", "snapshot"})


def _parse_first(ctx, dbt_args: list[str]) -> tuple[object | None, str | None]:
    """For a dbt command that parses: the project's manifest as the run wrote it (dbt's own
    partial parse; manifest.json is left to the command, which writes it when it ends), and
    the project's fingerprint it was parsed at. The command then starts from that manifest, so
    the project is parsed once, and after a commit the manifest is kept for the next command
    (which then plans without starting dbt). (None, None) when dbt cannot parse: the command
    itself then fails with dbt's own message."""
    if not dbt_args or dbt_args[0] not in PARSING_COMMANDS:
        return None, None
    fingerprint = cache.project_fingerprint(ctx.project)
    try:
        return ctx.dbt.parse(), fingerprint
    except ProjectError:
        return None, None


def _keep_manifest(project, manifest, fingerprint: str | None) -> None:
    """Keep the run's manifest as the project's context, if the project is still what was
    parsed (a file edited meanwhile: the next command parses again)."""
    if fingerprint is None or cache.project_fingerprint(project) != fingerprint:
        return
    kept = cache.read_cache(project)
    kept.keep_manifest(fingerprint, cache.summarize_manifest(manifest))
    cache.write_cache(project, kept)


def write_and_run(
    ctx,
    files: dict,
    dbt_args: list[str],
    *,
    what: str,
    guard: list[tuple[str, str]] | None = None,
    failures=None,
    before_commit=None,
    hint: str | None = None,
):
    """Write `files` ({path relative to the project: text}), run dbt with `dbt_args`, keep
    everything only if it succeeds — the write stage of every command.

    `guard` lists the relations (schema, name) the run may create or replace: they are restored
    on failure. Whatever the guard, the run holds the project lock, journals every change (so
    that a crash is undone by the next command) and compares a digest of the warehouse before
    and after dbt: a change outside `guard` raises WarehouseChanged. `failures(result)` picks
    the failing nodes that matter (default: every failed node). `before_commit(result)` runs
    last and may still raise to undo it all. Returns dbt's result. Raises ValidationFailed
    (with dbt's messages) when dbt fails.
    """
    project = ctx.project
    refuse_unsafe_jinja(files, project.root)
    allowed = list(guard or [])
    with project_lock(project):
        journal = Journal.for_project(project)
        tx = FileTransaction(project.root, journal)
        relations = None
        try:
            before = _digest(project)
            tx.prepare(files)
            for path, text in files.items():
                tx.write(path, text, overwrite=True)
            relations = RelationGuard(Warehouse(project), allowed, journal, started=False)
            relations.dbt_starting()
            manifest, parsed_at = _parse_first(ctx, dbt_args)
            result = ctx.dbt.invoke(dbt_args, manifest=manifest)
            pause_point("dbt-done")
            changed = changes(before, _digest(project), allowed)
            if changed:
                raise WarehouseChanged(
                    changed,
                    hint="This run's files and relations are rolled back, but martsmith cannot undo "
                    "the changes above: restore them from a backup, and look for SQL that ran through "
                    "Jinja (hooks, macros, run_query) in what this run built.",
                )
            failed = failures(result) if failures is not None else result.failed()
            if failed or (failures is None and not result.success):
                findings = [
                    Finding(
                        "test" if n.resource_type in ("test", "unit_test") else "build",
                        f"{n.name}: {n.status} {n.message}".strip(),
                    )
                    for n in failed
                ]
                detail = "\n".join(f"  {f}" for f in findings) or f"  {result.error or 'dbt did not run'}"
                raise ValidationFailed(f"{what} failed; nothing was kept:\n{detail}", findings, hint=hint)
            if before_commit is not None:
                before_commit(result)
            journal.mark_committed()
        except BaseException:
            tx.rollback()
            if relations is not None:
                relations.rollback()
            journal.remove()  # only once rolled back: a failed rollback leaves it for recovery
            raise
        # Past the commit point: a crash from here on is finished, not undone, by recovery.
        pause_point("committing")
        relations.commit()
        journal.remove()
        if manifest is not None:
            _keep_manifest(project, manifest, parsed_at)
        return result
