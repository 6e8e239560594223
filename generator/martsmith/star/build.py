"""The `star` pipeline: description/source -> context -> StarSpec -> files -> checks -> one
`dbt build` of every new model, all or nothing (FileTransaction + RelationGuard, as for models).

New models reference each other before they exist, so the static checks run against a catalog
extended with *stand-in* relations: each new model with the columns and types its spec promises.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import LLMError, ValidationFailed, WriteRefused
from martsmith.pipeline import Context, Progress, load_context
from martsmith.star.plan import plan_star
from martsmith.star.probe import WarehouseProbe
from martsmith.star.render import model_columns, render_star
from martsmith.star.spec import StarSpec
from martsmith.validate.findings import Finding
from martsmith.validate.lint import LintResult, LintWorker, lint_sql
from martsmith.validate.static import check_sql
from martsmith.write import FileTransaction, RelationGuard

@dataclass
class StarResult:
    spec: StarSpec
    files: dict[str, str]  # path relative to the project root -> text
    written: bool = False
    built: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    tests_passed: int = 0
    tests_warned: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self, with_text: bool = False) -> dict:
        out = {
            "area": self.spec.area, "written": self.written, "built": self.built,
            "models": self.spec.new_models, "files": list(self.files), "rows": self.rows,
            "tests_passed": self.tests_passed, "tests_warned": self.tests_warned,
            "reasons": self.spec.reasons, "notes": self.spec.notes,
            "spec": self.spec.model_dump(mode="json", exclude_defaults=True),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }
        if with_text:
            out["texts"] = self.files
        return out


def stand_in_catalog(catalog: Catalog, star: StarSpec, schema: str) -> Catalog:
    """The catalog plus every new model as if it were built, with the columns it will have."""
    new = model_columns(star)
    tables = [t for t in catalog.tables if not (t.kind == "model" and t.name in new)]
    for name, cols in new.items():
        tables.append(Table(kind="model", name=name, schema=schema, identifier=name,
                            columns=[Column(c, t) for c, t in cols]))
    return Catalog(tables=tables, foreign_keys=catalog.foreign_keys, undeclared=catalog.undeclared)


def check_files(
    star: StarSpec, files: dict[str, str], ctx: Context, progress: Progress, linter: LintWorker | None = None
) -> dict[str, str]:
    """Static checks and sqlfluff on every SQL file; returns the files with lint fixes applied.

    With a `linter` (a warmed-up worker process), sqlfluff runs there while this process does
    the static checks: the two overlap on a second core."""
    sql = {path: text for path, text in files.items() if path.endswith(".sql")}

    def lint_all() -> dict[str, LintResult]:
        if linter is not None:
            return {path: linter.lint(text, Path(path).name) for path, text in sql.items()}
        return {path: lint_sql(text, ctx.project.root, fname=Path(path).name) for path, text in sql.items()}

    pool = ThreadPoolExecutor(max_workers=1) if linter is not None else None
    linted = pool.submit(lint_all) if pool is not None else None
    try:
        catalog = stand_in_catalog(ctx.catalog, star, ctx.project.schema)
        findings = [f"{Path(path).name}: {f}" for path, text in sql.items() for f in check_sql(text, catalog)]
        if findings:
            raise ValidationFailed("The generated star schema failed static checks:\n" + "\n".join(f"  {f}" for f in findings))
        progress("linting with sqlfluff")
        results = linted.result() if linted is not None else lint_all()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    out = dict(files)
    lint_findings: list[str] = []
    for path, lint in results.items():
        out[path] = lint.sql
        lint_findings += [f"{Path(path).name}: {f}" for f in lint.findings]
    if lint_findings:
        raise ValidationFailed("sqlfluff violations remain after auto-fix:\n" + "\n".join(f"  {f}" for f in lint_findings))
    return out


def build_star(result: StarResult, ctx: Context, progress: Progress) -> None:
    """Write every file, then ONE `dbt build` of every new model; undo everything on failure."""
    root = ctx.project.root
    models = [m for m in result.spec.new_models]
    files = FileTransaction(root)
    guard = None
    try:
        for rel, text in result.files.items():
            files.write(rel, text)
        guard = RelationGuard(Warehouse(ctx.project), [(ctx.project.schema, m) for m in models])
        progress(f"building and testing {len(models)} models with dbt")
        t = time.perf_counter()
        res = ctx.dbt.invoke(["build", "--select", *models])
        result.seconds["dbt"] = time.perf_counter() - t
        failed = res.failed()
        if not res.success or failed:
            lines = [f"  [{'test' if n.resource_type == 'test' else 'build'}] {n.name}: {n.message}" for n in failed]
            raise ValidationFailed("dbt build failed; nothing was kept:\n" + ("\n".join(lines) or f"  {res.error}"),
                                   [Finding("build", line) for line in lines])
        for n in res.nodes:
            if n.resource_type == "test":
                result.tests_passed += n.status == "pass"
                result.tests_warned += n.status == "warn"
        with Warehouse(ctx.project) as wh:
            for n in res.nodes:
                if n.resource_type == "model" and n.relation:
                    result.rows[n.name] = int(wh.query(f"select count(*) from {n.relation}")[0][0])
        guard.commit()
        result.built = result.written = True
    except BaseException:
        files.rollback()
        if guard is not None:
            guard.rollback()
        raise


def _refuse_existing(star: StarSpec, files: dict[str, str], ctx: Context) -> None:
    root = ctx.project.root
    clashes = [p for p in files if (root / p).exists()]
    names = {n.name for n in ctx.manifest.nodes.values() if n.resource_type == "model"}
    clashes += [f"model {m}" for m in star.new_models if m in names]
    if clashes:
        raise WriteRefused("These already exist: " + ", ".join(sorted(set(clashes))) + ".",
                           hint="Move them away, or pass --area to put the star schema elsewhere.")


def generate_star(
    description: str | None,
    project: Project,
    *,
    source: str | None = None,
    snowflake: bool = False,
    area: str | None = None,
    llm_model: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[StarResult], bool] | None = None,
    progress: Progress = lambda _m: None,
) -> StarResult:
    if llm_model:
        raise LLMError(
            "The star command has no LLM planner yet: --llm is not supported here.",
            hint="Use the offline planner (drop --llm); name the fact and dimensions in the description.",
        )
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    # sqlfluff warms up in a second process while dbt parses the project in this one.
    with LintWorker(project.root) as linter:
        ctx = load_context(project, progress)
        seconds["context"] = time.perf_counter() - t0
        progress("planning the star schema (offline)")
        t = time.perf_counter()
        with Warehouse(project) as wh:
            star = plan_star(ctx.catalog, description, source=source, snowflake=snowflake, area=area, probe=WarehouseProbe(wh))
        seconds["plan"] = time.perf_counter() - t
        models_dir = project.models_dir.relative_to(project.root)
        files = {str(models_dir / p): text for p, text in render_star(star).items()}
        if not dry_run:
            _refuse_existing(star, files, ctx)
        t = time.perf_counter()
        files = check_files(star, files, ctx, progress, linter)
        seconds["lint_and_static"] = time.perf_counter() - t
    result = StarResult(star, files)
    result.seconds.update(seconds)
    result.seconds["check"] = time.perf_counter() - t0
    if dry_run:
        return result
    if confirm is not None and not confirm(result):
        raise WriteRefused("Nothing was written.")
    build_star(result, ctx, progress)
    result.seconds["total"] = time.perf_counter() - t0
    return result
