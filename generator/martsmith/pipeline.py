"""The `model` pipeline: request -> context -> plan -> render -> validate -> write.

Each stage is a function of the previous stage's output; this module only sequences them and
owns the all-or-nothing guarantee: on any failure the project tree is byte-identical to before
and no relation created by the run is left in the warehouse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from martsmith.context.catalog import Catalog
from martsmith.context.load import Context, Progress, load_context
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import UsageError, ValidationFailed, WriteRefused
from martsmith.render.properties import render_properties
from martsmith.render.sql import render_sql
from martsmith.inference.model_tests import model_tests
from martsmith.spec import ColumnSpec, ModelSpec
from martsmith.validate.findings import Finding
from martsmith.validate.lint import lint_sql
from martsmith.validate.spec_check import check_spec
from martsmith.validate.worker import CheckWorker
from martsmith.write import count_tests, write_and_run

MART_FOLDER_NAMES = ("marts", "mart", "reporting", "analytics")


@dataclass
class ModelResult:
    spec: ModelSpec
    sql_path: Path
    yml_path: Path
    sql: str
    yml: str
    written: bool = False
    built: bool = False
    rows: int | None = None
    tests_passed: int = 0
    tests_warned: int = 0
    findings: list[str] = field(default_factory=list)
    lint_fixed: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self, root: Path) -> dict:
        return {
            "name": self.spec.name,
            "written": self.written,
            "built": self.built,
            "files": [str(self.sql_path.relative_to(root)), str(self.yml_path.relative_to(root))],
            "rows": self.rows,
            "tests_passed": self.tests_passed,
            "tests_warned": self.tests_warned,
            "grain": self.spec.grain,
            "planner": self.spec.planner,
            "notes": self.spec.notes,
            "findings": self.findings,
            "tests": [t.model_dump(exclude_defaults=True) for t in self.spec.tests],
            "spec": self.spec.model_dump(mode="json", exclude_defaults=True),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def spec_findings(spec: ModelSpec, catalog: Catalog, worker: CheckWorker | None = None) -> list[Finding]:
    """Everything that can be checked before dbt: the spec, then its rendered SQL (in the check
    worker when there is one)."""
    findings = check_spec(spec, catalog)
    if findings:
        return findings
    if worker is not None:
        return worker.check_sql(render_sql(spec), catalog)
    from martsmith.validate.static import check_sql

    return check_sql(render_sql(spec), catalog)


def plan_request(request: str, ctx: Context, *, name: str | None, llm_model: str | None) -> ModelSpec:
    if not request or not request.strip():
        raise UsageError("The request is empty.", hint='Describe the model, e.g. "revenue by country per month".')
    check = lambda s: spec_findings(s, ctx.catalog)  # noqa: E731
    catalog = ctx.catalog.without_generated_aggregates()
    if llm_model:
        from martsmith.plan.llm import plan_with_llm

        return plan_with_llm(request, catalog, model=llm_model, name=name, check=check)
    from martsmith.plan.offline import plan_offline

    return plan_offline(request, catalog, name=name)


def document_columns(spec: ModelSpec, preview: list[tuple[str, str]]) -> list[ColumnSpec]:
    """Every output column gets an entry in the YAML: a SQL body's columns are known only from
    the preview, so they are listed from it (structured specs describe theirs already)."""
    described = {c.name for c in spec.columns} | set(spec.output_columns)
    extra = [ColumnSpec(name=name) for name, _ in preview if name not in described]
    return list(spec.columns) + extra


def model_paths(spec: ModelSpec, ctx: Context) -> tuple[Path, Path, bool]:
    """Where the model goes: the existing file of a same-named model, or the project's marts
    folder. Returns (sql_path, yml_path, exists)."""
    for node in ctx.manifest.nodes.values():
        if node.resource_type == "model" and node.name == spec.name and node.package_name == ctx.project.name:
            sql_path = ctx.project.root / node.original_file_path
            return sql_path, sql_path.with_suffix(".yml"), True
    models = ctx.project.models_dir
    layer: str = spec.layer
    if layer == "marts" and not (models / "marts").is_dir():
        layer = next((n for n in MART_FOLDER_NAMES if (models / n).is_dir()), "marts")
    folder = models / layer / (spec.folder or "")
    sql_path = folder / f"{spec.name}.sql"
    return sql_path, sql_path.with_suffix(".yml"), sql_path.exists()


def static_check(spec: ModelSpec, ctx: Context, worker: CheckWorker | None = None) -> float:
    """Spec and SQL checks; raises ValidationFailed. Returns the seconds it took."""
    t = time.perf_counter()
    findings = spec_findings(spec, ctx.catalog, worker)
    if findings:
        raise ValidationFailed(
            "The generated model failed static checks:\n" + "\n".join(f"  {f}" for f in findings), findings
        )
    return time.perf_counter() - t


def render_and_lint(
    spec: ModelSpec, ctx: Context, progress: Progress, linter: CheckWorker | None = None
) -> tuple[str, str, bool, float]:
    """(sql, yml, whether sqlfluff fixed something, seconds); raises on remaining violations."""
    progress("linting with sqlfluff")
    t = time.perf_counter()
    fname = f"{spec.name}.sql"
    sql = render_sql(spec)
    lint = linter.lint(sql, fname) if linter else lint_sql(sql, ctx.project.root, fname=fname)
    if lint.findings:
        raise ValidationFailed(
            "sqlfluff violations remain after auto-fix:\n" + "\n".join(f"  {f}" for f in lint.findings),
            lint.findings,
        )
    return lint.sql, render_properties(spec), lint.fixed, time.perf_counter() - t


def build(result: ModelResult, ctx: Context, *, no_build: bool, progress: Progress) -> None:
    """Write the files, then compile (--no-build) or build and test with dbt; undo everything
    on failure."""
    root = ctx.project.root
    files = {result.sql_path.relative_to(root): result.sql, result.yml_path.relative_to(root): result.yml}
    name = result.spec.name
    t = time.perf_counter()
    if no_build:
        progress("compiling with dbt")
        write_and_run(ctx, files, ["compile", "--select", name], what="dbt compile")
    else:
        progress(f"building and testing {name} with dbt")

        def count_rows(res) -> None:
            result.tests_passed, result.tests_warned = count_tests(res.nodes)
            relation = next((n.relation for n in res.nodes if n.resource_type == "model"), None)
            if relation:
                with Warehouse(ctx.project) as wh:
                    result.rows = int(wh.query(f"select count(*) from {relation}")[0][0])

        # One model: look its relations up on demand instead of caching whole schemas.
        write_and_run(
            ctx, files, ["build", "--select", name, "--no-populate-cache"], what="dbt build",
            guard=[(ctx.project.schema, name)], before_commit=count_rows,
        )
        result.built = True
    result.seconds["dbt"] = time.perf_counter() - t
    result.written = True


def generate_model(
    request: str,
    project: Project,
    *,
    name: str | None = None,
    llm_model: str | None = None,
    dry_run: bool = False,
    no_build: bool = False,
    force: bool = False,
    confirm: Callable[[ModelResult], bool] | None = None,
    progress: Progress = lambda _m: None,
) -> ModelResult:
    """Run the whole pipeline for one request. `confirm` is asked before anything is written;
    returning False aborts with nothing written."""
    t0 = time.perf_counter()
    # sqlfluff and sqlglot warm up in a second process while dbt parses the project in this one.
    with CheckWorker(project.root) as worker:
        ctx = load_context(project, progress)
        t_ctx = time.perf_counter() - t0
        progress("planning" + (f" with {llm_model}" if llm_model else " (offline)"))
        t = time.perf_counter()
        spec = plan_request(request, ctx, name=name, llm_model=llm_model)
        t_plan = time.perf_counter() - t
        sql_path, yml_path, exists = model_paths(spec, ctx)
        if exists and not force and not dry_run:
            raise WriteRefused(
                f"A model named '{spec.name}' already exists ({sql_path.relative_to(project.root)}).",
                hint="Pass --name to choose another name, or --force to replace it.",
            )
        t_static = static_check(spec, ctx, worker)
        # Only SQL that passed the safety checks ever runs, and only as a temp table.
        progress("inferring tests from the model's data")
        t = time.perf_counter()
        with Warehouse(project) as wh:
            found = model_tests(spec, ctx.catalog, wh)
        findings = found.findings
        spec = spec.model_copy(update={"tests": found.tests, "columns": document_columns(spec, found.columns)})
        t_tests = time.perf_counter() - t
        sql, yml, fixed, t_lint = render_and_lint(spec, ctx, progress, worker)
    result = ModelResult(spec, sql_path, yml_path, sql, yml, findings=findings, lint_fixed=fixed)
    result.seconds.update(context=t_ctx, plan=t_plan, static=t_static, tests=t_tests, lint=t_lint)
    if dry_run:
        return result
    if confirm is not None and not confirm(result):
        raise WriteRefused("Nothing was written.")
    build(result, ctx, no_build=no_build, progress=progress)
    result.seconds["total"] = time.perf_counter() - t0
    return result
