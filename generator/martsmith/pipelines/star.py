"""`martsmith star`: description/source -> context -> StarSpec -> files -> checks -> one `dbt build`
of every new model, all or nothing (the run's write stage, as for models).

sqlfluff warms up in the check worker while dbt parses the project, then lints while the static
checks run and, with --yes, while dbt builds (star/check.py).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import click

from martsmith.commands.output import items, line, preview
from martsmith.context.conventions import STAGING_FOLDER_NAMES, Conventions, detect_conventions
from martsmith.context.load import Context
from martsmith.context.warehouse import Warehouse
from martsmith.errors import WriteRefused
from martsmith.inference.merge import place_properties
from martsmith.pipelines.run import Run
from martsmith.star.check import lint_outcome, start_lint, static_check
from martsmith.star.plan import infer_measure_tests, plan_star
from martsmith.star.plan_llm import plan_star_llm
from martsmith.star.probe import WarehouseProbe
from martsmith.star.render import render_star
from martsmith.star.scd2 import make_type2
from martsmith.star.spec import StarSpec
from martsmith.validate.lint import LintResult
from martsmith.write import count_tests

MAX_NOTES = 20  # reasons and notes shown; an LLM may write thousands


@dataclass
class StarResult:
    spec: StarSpec
    files: dict[str, str]  # path relative to the project root -> text
    written: bool = False
    built: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    tests_passed: int = 0
    tests_warned: int = 0

    def as_dict(self, with_text: bool = False) -> dict:
        out = {
            "area": self.spec.area,
            "written": self.written,
            "built": self.built,
            "models": self.spec.new_models,
            "files": list(self.files),
            "rows": self.rows,
            "tests_passed": self.tests_passed,
            "tests_warned": self.tests_warned,
            "reasons": self.spec.reasons,
            "notes": self.spec.notes,
            "spec": self.spec.model_dump(mode="json", exclude_defaults=True),
        }
        if with_text:
            out["texts"] = self.files
        return out


def generate_star(
    run: Run,
    description: str | None,
    *,
    source: str | None = None,
    snowflake: bool = False,
    area: str | None = None,
    llm_model: str | None = None,
    scd2: tuple[str, ...] = (),
) -> StarResult:
    """Plan, render and check a star schema; then (unless --dry-run, once approved) write it and
    build it in one dbt invocation; then its summary."""
    ctx = run.context()
    with run.timed("plan"):
        star = plan(
            run, ctx, description, source=source, snowflake=snowflake, area=area, llm_model=llm_model, scd2=scd2
        )
    conventions = detect_conventions(run.project)
    files = {where(p, conventions): text for p, text in render_star(star).items()}
    if not run.dry_run:
        refuse_existing(star, files, ctx)
    files = place_yaml(files, run.project.root, conventions)
    with run.timed("static"):
        lint_future = start_lint(files, ctx, run.checks)
        pending: Future[dict[str, LintResult]] | None = lint_future
        static_check(star, files, ctx)
    if run.dry_run or run.will_ask:
        # What is shown (or asked about) is what will be written: wait for sqlfluff.
        run.progress("linting with sqlfluff")
        with run.timed("lint"):
            files, pending = lint_outcome(files, lint_future), None
    result = StarResult(star, files)
    if run.approve("Write and build these models?", shown=describe(result), action="write and build"):
        build_star(run, result, pending)
    run.report(
        result.as_dict(with_text=run.dry_run),
        summary(result) if result.written else describe(result),
        previews=result.files,
    )
    return result


def plan(
    run: Run,
    ctx: Context,
    description: str | None,
    *,
    source: str | None,
    snowflake: bool,
    area: str | None,
    llm_model: str | None,
    scd2: tuple[str, ...] = (),
) -> StarSpec:
    """The offline planner, or the llm planner followed by the same data-checked measure tests;
    then the dimensions `scd2` names made type 2 (where the data carries history)."""
    with Warehouse(ctx.project) as wh:
        probe = WarehouseProbe(wh)
        if not llm_model:
            run.progress("planning the star schema (offline)")
            star = plan_star(ctx.catalog, description, source=source, snowflake=snowflake, area=area, probe=probe)
        else:
            run.progress(f"planning the star schema with {llm_model}")
            star = plan_star_llm(
                ctx.catalog,
                description,
                model=llm_model,
                source=source,
                snowflake=snowflake,
                area=area,
                schema=ctx.project.schema,
            )
            star = infer_measure_tests(star, ctx.catalog, probe)
    return make_type2(star, list(scd2)) if scd2 else star


def where(rendered: str, conventions: Conventions) -> str:
    """A path render_star gives (`staging/<source>/...`, `marts/<area>/...`) in the project's
    folders: staging models in its staging folder (by source where it is a `staging/` folder),
    marts in an `<area>/` folder of its marts folder."""
    layer, _, rest = rendered.partition("/")
    if layer == "staging":
        base = conventions.staging_dir
        if Path(base).name.lower() not in STAGING_FOLDER_NAMES:
            rest = rest.split("/", 1)[-1]  # a flat staging folder: no per-source sub-folder
        return str(Path(base) / rest)
    return str(Path(conventions.marts_dir) / rest)


def place_yaml(files: dict[str, str], root: Path, conventions: Conventions) -> dict[str, str]:
    """Each model's rendered YAML where the project keeps it: beside the model, or merged into
    its folder's shared file (several new models of one folder, one file); tests under the
    project's key."""
    out: dict[str, str] = {}
    for path, text in files.items():
        if not path.endswith(".yml"):
            out[path] = text
            continue
        target = str(conventions.properties_path(Path(path).with_suffix(".sql")))
        current = out.get(target)
        out[target] = place_properties(root / target, text, tests_key=conventions.tests_key, text=current)
    return out


def refuse_existing(star: StarSpec, files: dict[str, str], ctx: Context) -> None:
    """A star schema adds models: a file or a model of the same name already there is refused."""
    root = ctx.project.root
    clashes = [p for p in files if (root / p).exists()]
    names = {n.name for n in ctx.manifest.nodes.values() if n.resource_type == "model"}
    clashes += [f"model {m}" for m in star.new_models if m in names]
    if clashes:
        raise WriteRefused(
            "These already exist: " + ", ".join(sorted(set(clashes))) + ".",
            hint="Move them away, or pass --area to put the star schema elsewhere.",
        )


class _LintFixes(Exception):
    """sqlfluff changed a file that was already being built: build again with its fixes."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__("sqlfluff fixed files during the build")
        self.files = files


def build_star(run: Run, result: StarResult, pending_lint: Future[dict[str, LintResult]] | None = None) -> None:
    """Write every file, then ONE `dbt build` of every new model; undo everything on failure.

    With `pending_lint`, sqlfluff finishes while dbt builds: the build is kept only if the lint
    is clean, and rebuilt with sqlfluff's fixes if it changed anything (the renderer's output
    needs none, so that is the slow path)."""
    models = list(result.spec.new_models)

    def keep(res) -> None:
        if pending_lint is not None:
            fixed = lint_outcome(result.files, pending_lint)
            if fixed != result.files:
                raise _LintFixes(fixed)
        result.tests_passed, result.tests_warned = count_tests(res.nodes)
        with Warehouse(run.project) as wh:
            for n in res.nodes:
                if n.resource_type == "model" and n.relation:
                    result.rows[n.name] = int(wh.query(f"select count(*) from {n.relation}")[0][0])

    while True:
        run.progress(f"building and testing {len(models)} models with dbt")
        try:
            run.write(
                result.files,
                ["build", "--select", *models],
                what="dbt build",
                guard=[(run.project.schema, m) for m in models],
                before_commit=keep,
            )
        except _LintFixes as fixes:  # the first build was undone: build the fixed files
            result.files, pending_lint = fixes.files, None
            continue
        break
    result.built = result.written = True


def describe(result: StarResult) -> str:
    """The layout and why, as shown before writing (and with --dry-run)."""
    # The area, names, reasons and notes may come from the LLM: made safe piece by piece.
    spec = result.spec
    lines = [
        click.style(f"{'snowflake' if spec.snowflake else 'star'} schema '{line(spec.area, 200)}'", bold=True)
        + f"  ({line(spec.planner, 200)} planner, source '{line(spec.source_name, 200)}')"
    ]
    lines += ["  models: " + items(spec.new_models, what="models", limit=50)]
    lines += ["  why:"] + [f"    - {line(r)}" for r in spec.reasons[:MAX_NOTES]]
    if len(spec.reasons) > MAX_NOTES:
        lines.append(f"    … and {len(spec.reasons) - MAX_NOTES:,} more reasons")
    lines += [click.style("  note: ", fg="yellow") + line(n) for n in spec.notes[:MAX_NOTES]]
    if len(spec.notes) > MAX_NOTES:
        lines.append(f"  … and {len(spec.notes) - MAX_NOTES:,} more notes")
    return "\n".join(lines)


def summary(result: StarResult) -> str:
    """What was written and built, then the ERD."""
    erd = next((text for path, text in result.files.items() if path.endswith("__erd.md")), "")
    warned = f", {result.tests_warned} warned" if result.tests_warned else ""
    return (
        "\n".join(
            [
                describe(result),
                "  files: " + items(result.files, what="files", limit=100, each=200),
                f"  built: {sum(result.rows.values())} rows in {len(result.rows)} models; tests: {result.tests_passed} passed"
                + warned,
            ]
        )
        + "\n\n"
        + preview(erd)
    )


__all__ = ["StarResult", "build_star", "generate_star", "plan", "refuse_existing"]
