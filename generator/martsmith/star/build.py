"""The `star` pipeline: description/source -> context -> StarSpec -> files -> checks -> one
`dbt build` of every new model, all or nothing (FileTransaction + RelationGuard, as for models).

New models reference each other before they exist, so the static checks run against a catalog
extended with *stand-in* relations: each new model with the columns and types its spec promises.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import ValidationFailed, WriteRefused
from martsmith.context.load import Context, Progress, load_context
from martsmith.star.plan import infer_measure_tests, plan_star
from martsmith.star.probe import WarehouseProbe
from martsmith.star.render import model_columns, render_star
from martsmith.star.scd2 import make_type2
from martsmith.star.spec import StarSpec
from martsmith.validate.lint import LintResult, lint_sql
from martsmith.validate.worker import CheckWorker
from martsmith.validate.static import check_sql
from martsmith.write import count_tests, write_and_run

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


def static_check(star: StarSpec, files: dict[str, str], ctx: Context) -> None:
    """The static checks of every SQL file, against the catalog with the new models stood in."""
    catalog = stand_in_catalog(ctx.catalog, star, ctx.project.schema)
    findings = [
        f"{Path(path).name}: {f}" for path, text in files.items() if path.endswith(".sql") for f in check_sql(text, catalog)
    ]
    if findings:
        raise ValidationFailed("The generated star schema failed static checks:\n" + "\n".join(f"  {f}" for f in findings))


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


class LintFixes(Exception):
    """sqlfluff changed a file that was already being built: build again with its fixes."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__("sqlfluff fixed files during the build")
        self.files = files


def lint_outcome(files: dict[str, str], pending: Future[dict[str, LintResult]]) -> dict[str, str]:
    """The files with sqlfluff's fixes applied; ValidationFailed if violations remain."""
    out = dict(files)
    findings: list[str] = []
    for path, lint in pending.result().items():
        out[path] = lint.sql
        findings += [f"{Path(path).name}: {f}" for f in lint.findings]
    if findings:
        raise ValidationFailed("sqlfluff violations remain after auto-fix:\n" + "\n".join(f"  {f}" for f in findings))
    return out


def check_files(
    star: StarSpec, files: dict[str, str], ctx: Context, progress: Progress, linter: CheckWorker | None = None
) -> dict[str, str]:
    """Static checks and sqlfluff on every SQL file; returns the files with lint fixes applied."""
    pending = start_lint(files, ctx, linter)
    static_check(star, files, ctx)
    progress("linting with sqlfluff")
    return lint_outcome(files, pending)


def build_star(result: StarResult, ctx: Context, progress: Progress, pending_lint: Future[dict[str, LintResult]] | None = None) -> None:
    """Write every file, then ONE `dbt build` of every new model; undo everything on failure.

    With `pending_lint`, sqlfluff finishes while dbt builds: the build is kept only if the lint
    is clean, and rebuilt with sqlfluff's fixes if it changed anything (the renderer's output
    needs none, so that is the slow path)."""
    models = list(result.spec.new_models)
    progress(f"building and testing {len(models)} models with dbt")

    def keep(res) -> None:
        if pending_lint is not None:
            fixed = lint_outcome(result.files, pending_lint)
            if fixed != result.files:
                raise LintFixes(fixed)
        result.tests_passed, result.tests_warned = count_tests(res.nodes)
        with Warehouse(ctx.project) as wh:
            for n in res.nodes:
                if n.resource_type == "model" and n.relation:
                    result.rows[n.name] = int(wh.query(f"select count(*) from {n.relation}")[0][0])

    t = time.perf_counter()
    try:
        write_and_run(
            ctx, result.files, ["build", "--select", *models], what="dbt build",
            guard=[(ctx.project.schema, m) for m in models], before_commit=keep,
        )
    except LintFixes as fixes:
        result.files = fixes.files
        build_star(result, ctx, progress)
        return
    finally:
        result.seconds["dbt"] = time.perf_counter() - t
    result.built = result.written = True


def _refuse_existing(star: StarSpec, files: dict[str, str], ctx: Context) -> None:
    root = ctx.project.root
    clashes = [p for p in files if (root / p).exists()]
    names = {n.name for n in ctx.manifest.nodes.values() if n.resource_type == "model"}
    clashes += [f"model {m}" for m in star.new_models if m in names]
    if clashes:
        raise WriteRefused("These already exist: " + ", ".join(sorted(set(clashes))) + ".",
                           hint="Move them away, or pass --area to put the star schema elsewhere.")


def plan(ctx: Context, description: str | None, *, source, snowflake, area, llm_model, progress: Progress,
         scd2: tuple[str, ...] = ()) -> StarSpec:
    """The offline planner, or the llm planner followed by the same data-checked measure tests;
    then the dimensions `scd2` names made type 2 (where the data carries history)."""
    with Warehouse(ctx.project) as wh:
        probe = WarehouseProbe(wh)
        if not llm_model:
            progress("planning the star schema (offline)")
            star = plan_star(ctx.catalog, description, source=source, snowflake=snowflake, area=area, probe=probe)
        else:
            from martsmith.star.plan_llm import plan_star_llm

            progress(f"planning the star schema with {llm_model}")
            star = plan_star_llm(ctx.catalog, description, model=llm_model, source=source, snowflake=snowflake,
                                 area=area, schema=ctx.project.schema)
            star = infer_measure_tests(star, ctx.catalog, probe)
    return make_type2(star, list(scd2)) if scd2 else star


def generate_star(
    description: str | None,
    project: Project,
    *,
    source: str | None = None,
    snowflake: bool = False,
    area: str | None = None,
    llm_model: str | None = None,
    scd2: tuple[str, ...] = (),
    dry_run: bool = False,
    confirm: Callable[[StarResult], bool] | None = None,
    progress: Progress = lambda _m: None,
) -> StarResult:
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    # sqlfluff warms up in a second process while dbt parses the project in this one, then
    # lints while dbt builds.
    with CheckWorker(project.root) as linter:
        ctx = load_context(project, progress)
        seconds["context"] = time.perf_counter() - t0
        t = time.perf_counter()
        star = plan(ctx, description, source=source, snowflake=snowflake, area=area, llm_model=llm_model, progress=progress,
                    scd2=scd2)
        seconds["plan"] = time.perf_counter() - t
        models_dir = project.models_dir.relative_to(project.root)
        files = {str(models_dir / p): text for p, text in render_star(star).items()}
        if not dry_run:
            _refuse_existing(star, files, ctx)
        t = time.perf_counter()
        lint_future = start_lint(files, ctx, linter)
        pending: Future[dict[str, LintResult]] | None = lint_future
        static_check(star, files, ctx)
        seconds["static"] = time.perf_counter() - t
        if dry_run or confirm is not None:
            # What is shown (or asked about) is what will be written: wait for sqlfluff.
            progress("linting with sqlfluff")
            files, pending = lint_outcome(files, lint_future), None
        result = StarResult(star, files)
        result.seconds.update(seconds)
        result.seconds["check"] = time.perf_counter() - t0
        if dry_run:
            return result
        if confirm is not None and not confirm(result):
            raise WriteRefused("Nothing was written.")
        build_star(result, ctx, progress, pending)
    result.seconds["total"] = time.perf_counter() - t0
    return result
