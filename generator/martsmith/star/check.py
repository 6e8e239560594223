"""The star schema's checks before dbt: the static checks of every SQL file, and sqlfluff over them
in the background (it finishes while the rest of the run goes on, even during the build).

New models reference each other before they exist, so the static checks run against a catalog
extended with *stand-in* relations: each new model with the columns and types its spec promises.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.load import Context
from martsmith.errors import ValidationFailed
from martsmith.star.render import model_columns
from martsmith.star.spec import StarSpec
from martsmith.validate.findings import Finding
from martsmith.validate.lint import LintResult, lint_sql
from martsmith.validate.static import check_sql
from martsmith.validate.worker import CheckWorker


def stand_in_catalog(catalog: Catalog, star: StarSpec, schema: str) -> Catalog:
    """The catalog plus every new model as if it were built, with the columns it will have."""
    new = model_columns(star)
    tables = [t for t in catalog.tables if not (t.kind == "model" and t.name in new)]
    for name, cols in new.items():
        tables.append(
            Table(kind="model", name=name, schema=schema, identifier=name, columns=[Column(c, t) for c, t in cols])
        )
    return Catalog(tables=tables, foreign_keys=catalog.foreign_keys, undeclared=catalog.undeclared)


def static_check(star: StarSpec, files: dict[str, str], ctx: Context) -> None:
    """The static checks of every SQL file, against the catalog with the new models stood in."""
    catalog = stand_in_catalog(ctx.catalog, star, ctx.project.schema)
    found = [
        (Path(path).name, f) for path, text in files.items() if path.endswith(".sql") for f in check_sql(text, catalog)
    ]
    if found:
        raise ValidationFailed(
            "The generated star schema failed static checks:\n" + "\n".join(f"  {name}: {f}" for name, f in found),
            [Finding(f.check, f"{name}: {f.message}", f.line) for name, f in found],
        )


def start_lint(files: dict[str, str], ctx: Context, linter: CheckWorker | None) -> Future[dict[str, LintResult]]:
    """sqlfluff over every SQL file, in the background: with a warmed-up worker process it runs
    on the second core while this process does something else (the static checks, dbt)."""
    sql = {path: text for path, text in files.items() if path.endswith(".sql")}

    def lint_all() -> dict[str, LintResult]:
        if linter is not None:
            return {path: linter.lint(text, Path(path).name) for path, text in sql.items()}
        return {path: lint_sql(text, ctx.project.root, fname=Path(path).name) for path, text in sql.items()}

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(lint_all)
    pool.shutdown(wait=False)
    return future


def lint_outcome(files: dict[str, str], pending: Future[dict[str, LintResult]]) -> dict[str, str]:
    """The files with sqlfluff's fixes applied; ValidationFailed if violations remain."""
    out = dict(files)
    found: list[tuple[str, Finding]] = []
    for path, lint in pending.result().items():
        out[path] = lint.sql
        found += [(Path(path).name, f) for f in lint.findings]
    if found:
        raise ValidationFailed(
            "sqlfluff violations remain after auto-fix:\n" + "\n".join(f"  {name}: {f}" for name, f in found),
            [Finding(f.check, f"{name}: {f.message}", f.line) for name, f in found],
        )
    return out


__all__ = ["lint_outcome", "stand_in_catalog", "start_lint", "static_check"]
