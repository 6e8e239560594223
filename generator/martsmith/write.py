"""All-or-nothing changes to the project tree and the warehouse.

`FileTransaction` writes files and remembers what was there before (bytes, or nothing; and the
directories it had to create), so that `rollback()` leaves the tree byte-identical.
`RelationGuard` remembers which relations existed in the target schema(s) before a dbt build and,
on rollback, drops the ones the run created and restores the ones it replaced (--force).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import WriteRefused


@dataclass
class FileTransaction:
    root: Path
    _before: dict[Path, bytes | None] = field(default_factory=dict)
    _created_dirs: list[Path] = field(default_factory=list)
    applied: bool = False

    def write(self, relpath: str | Path, content: str, *, overwrite: bool = False) -> Path:
        path = (self.root / relpath).resolve()
        if self.root.resolve() not in path.parents:
            raise WriteRefused(f"Refusing to write {relpath}: it is outside the project.")
        if path.exists() and not overwrite and path not in self._before:
            raise WriteRefused(f"{path.relative_to(self.root)} already exists.", hint="Use --force to replace it.")
        if path not in self._before:
            self._before[path] = path.read_bytes() if path.exists() else None
        missing = []
        parent = path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            self._created_dirs.append(d)
        path.write_text(content)
        self.applied = True
        return path

    @property
    def paths(self) -> list[Path]:
        return list(self._before)

    def rollback(self) -> None:
        for path, before in self._before.items():
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(before)
        for d in reversed(self._created_dirs):
            try:
                d.rmdir()
            except OSError:
                pass  # something else was put there meanwhile: leave it
        self._before.clear()
        self._created_dirs.clear()


BACKUP_PREFIX = "__martsmith_backup__"


@dataclass
class RelationGuard:
    """Protects the warehouse around a build of `relations` [(schema, name), ...]."""

    warehouse: Warehouse
    relations: list[tuple[str, str]]
    _existed: set[tuple[str, str]] = field(default_factory=set)
    _backups: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._before_all = self.warehouse.relations()
        for schema, name in self.relations:
            kind = self.warehouse.relation_kind(schema, name)
            if kind is None:
                continue
            self._existed.add((schema, name))
            if kind == "view":
                (sql,) = self.warehouse.query(
                    "select sql from duckdb_views() where database_name = current_database() "
                    "and schema_name = ? and view_name = ?",
                    [schema, name],
                )[0]
                self._backups[(schema, name)] = ("view", sql)
            else:
                backup = BACKUP_PREFIX + name
                self.warehouse.execute(
                    f"create or replace table {quote(schema)}.{quote(backup)} as "
                    f"select * from {quote(schema)}.{quote(name)}"
                )
                self._backups[(schema, name)] = ("table", backup)
        self.warehouse.close()

    def rollback(self) -> None:
        wh = self.warehouse
        after = wh.relations()
        for schema, name in sorted(after - self._before_all):
            if name.startswith(BACKUP_PREFIX):
                continue
            kind = wh.relation_kind(schema, name)
            wh.execute(f"drop {'view' if kind == 'view' else 'table'} if exists {quote(schema)}.{quote(name)} cascade")
        for (schema, name), (kind, payload) in self._backups.items():
            current = wh.relation_kind(schema, name)
            if current:
                wh.execute(f"drop {current} if exists {quote(schema)}.{quote(name)} cascade")
            if kind == "view":
                wh.execute(payload)
            else:
                wh.execute(
                    f"alter table {quote(schema)}.{quote(payload)} rename to {quote(name)}"
                )
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
    from martsmith.errors import ValidationFailed
    from martsmith.validate.jinja_allowlist import check_files_jinja

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
    on failure. `failures(result)` picks the failing nodes that matter (default: every failed
    node). `before_commit(result)` runs last and may still raise to undo it all. Returns dbt's
    result. Raises ValidationFailed (with dbt's messages) when dbt fails.
    """
    from martsmith.errors import ValidationFailed
    from martsmith.validate.findings import Finding

    refuse_unsafe_jinja(files, ctx.project.root)
    tx = FileTransaction(ctx.project.root)
    relations = None
    try:
        for path, text in files.items():
            tx.write(path, text, overwrite=True)
        if guard:
            relations = RelationGuard(Warehouse(ctx.project), list(guard))
        result = ctx.dbt.invoke(dbt_args)
        failed = failures(result) if failures is not None else result.failed()
        if failed or (failures is None and not result.success):
            findings = [
                Finding("test" if n.resource_type in ("test", "unit_test") else "build", f"{n.name}: {n.status} {n.message}".strip())
                for n in failed
            ]
            detail = "\n".join(f"  {f}" for f in findings) or f"  {result.error or 'dbt did not run'}"
            raise ValidationFailed(f"{what} failed; nothing was kept:\n{detail}", findings, hint=hint)
        if before_commit is not None:
            before_commit(result)
        if relations is not None:
            relations.commit()
        return result
    except BaseException:
        tx.rollback()
        if relations is not None:
            relations.rollback()
        raise
