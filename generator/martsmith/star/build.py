"""The `star` pipeline: description/source -> context -> StarSpec -> files -> checks -> one
`dbt build` of every new model, all or nothing (FileTransaction + RelationGuard, as for models).

New models reference each other before they exist, so the static checks run against a catalog
extended with *stand-in* relations: each new model with the columns and types its spec promises.
"""

from __future__ import annotations

import re
import time
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
from martsmith.validate.lint import lint_sql
from martsmith.validate.static import check_sql
from martsmith.write import FileTransaction, RelationGuard

DATE_SPINE = re.compile(r"\{\{\s*martsmith\.date_spine\(\s*'([0-9-]+)'[^}]*\}\}")


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


def _plain_date_spine(sql: str) -> str:
    # render_static knows no date_spine: a one-row stand-in with the same column suffices for
    # the safety and column checks (the macro itself is tested with the package).
    return DATE_SPINE.sub(lambda m: f"select cast('{m.group(1)}' as date) as date_day", sql)


def check_files(star: StarSpec, files: dict[str, str], ctx: Context, progress: Progress) -> dict[str, str]:
    """Static checks and sqlfluff on every SQL file; returns the files with lint fixes applied."""
    catalog = stand_in_catalog(ctx.catalog, star, ctx.project.schema)
    findings: list[str] = []
    for path, text in files.items():
        if path.endswith(".sql"):
            findings += [f"{Path(path).name}: {f}" for f in check_sql(_plain_date_spine(text), catalog)]
    if findings:
        raise ValidationFailed("The generated star schema failed static checks:\n" + "\n".join(f"  {f}" for f in findings))
    progress("linting with sqlfluff")
    out = dict(files)
    lint_findings: list[str] = []
    for path, text in files.items():
        if path.endswith(".sql"):
            # sqlfluff's templater knows no date_spine either: lint the stand-in, put the call back.
            calls = {_plain_date_spine(m.group(0)): m.group(0) for m in DATE_SPINE.finditer(text)}
            lint = lint_sql(_plain_date_spine(text), ctx.project.root, fname=Path(path).name)
            fixed = lint.sql
            for plain, call in calls.items():
                fixed = fixed.replace(plain, call)
            out[path] = fixed
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
    ctx = load_context(project, progress)
    progress("planning the star schema (offline)")
    with Warehouse(project) as wh:
        star = plan_star(ctx.catalog, description, source=source, snowflake=snowflake, area=area, probe=WarehouseProbe(wh))
    models_dir = project.models_dir.relative_to(project.root)
    files = {str(models_dir / p): text for p, text in render_star(star).items()}
    if not dry_run:
        _refuse_existing(star, files, ctx)
    files = check_files(star, files, ctx, progress)
    result = StarResult(star, files)
    result.seconds["check"] = time.perf_counter() - t0
    if dry_run:
        return result
    if confirm is not None and not confirm(result):
        raise WriteRefused("Nothing was written.")
    build_star(result, ctx, progress)
    result.seconds["total"] = time.perf_counter() - t0
    return result
