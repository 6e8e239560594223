"""`martsmith model`: request -> context -> plan -> render -> validate -> write.

Each stage is a function of the previous stage's output; this module sequences them on the run
(pipelines/run.py), which owns the all-or-nothing write: on any failure the project tree is
byte-identical to before and no relation created by the run is left in the warehouse.

With --llm every check after planning feeds the planner's repair loop: static and catalog
findings, the warehouse compiling the SQL, sqlfluff's violations that auto-fix left, dbt's build
errors and failing tests go back to the model (with the offending line), and the checks start
again on its next answer, within MARTSMITH_LLM_MAX_ATTEMPTS answers in all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import click

from martsmith.commands.output import MAX_ITEMS, items, line, safe
from martsmith.context.catalog import Catalog
from martsmith.context.conventions import ROLE_PREFIXES, Conventions, detect_conventions
from martsmith.context.load import Context
from martsmith.context.warehouse import Warehouse
from martsmith.errors import UsageError, ValidationFailed, WriteRefused
from martsmith.inference.merge import place_properties
from martsmith.inference.model_tests import model_tests
from martsmith.pipelines.run import Run
from martsmith.plan.llm import SpecConversation, start_llm_plan
from martsmith.plan.offline import plan_offline
from martsmith.render.properties import render_properties
from martsmith.render.sql import render_sql
from martsmith.spec import ColumnSpec, ModelSpec, check_identifier
from martsmith.validate.compiles import compile_findings
from martsmith.validate.findings import Finding
from martsmith.validate.lint import lint_sql
from martsmith.validate.spec_check import check_spec
from martsmith.validate.worker import CheckWorker
from martsmith.write import count_tests

MAX_NOTES = 20  # notes and findings shown; an LLM may write thousands


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
        }


def generate_model(
    run: Run,
    request: str,
    *,
    name: str | None = None,
    llm_model: str | None = None,
    no_build: bool = False,
    force: bool = False,
) -> ModelResult:
    """The whole pipeline for one request, then its summary: planned, checked, its tests inferred
    from a preview of its data, linted; then (unless --dry-run, once approved) written and built.
    With an llm planner, what a check finds goes back to the model until an answer passes."""
    ctx = run.context()
    run.progress("planning" + (f" with {llm_model}" if llm_model else " (offline)"))
    with run.timed("plan"):
        spec, conversation = start_plan(request, ctx, name=name, llm_model=llm_model)
    while True:
        attempt = _Attempt()
        try:
            result = check_and_build(
                run, spec, attempt, no_build=no_build, force=force, conversation=conversation, house_prefix=name is None
            )
            break
        except ValidationFailed as exc:
            if conversation is None or not conversation.can_repair or not exc.findings:
                raise
            run.progress(f"sending {len(exc.findings)} finding(s) back to {conversation.model}")
            with run.timed("plan"):
                spec = conversation.repair(list(exc.findings), attempt.sql)
    root = run.project.root
    data = result.as_dict(root)
    if run.dry_run:
        data["sql"], data["yml"] = result.sql, result.yml
    run.report(
        data,
        summary(result, root) if result.written else describe(result),
        previews={
            str(path.relative_to(root)): text
            for path, text in ((result.sql_path, result.sql), (result.yml_path, result.yml))
        },
    )
    return result


@dataclass
class _Attempt:
    """What one pass of the checks is looking at: the SQL its findings' lines refer to."""

    sql: str | None = None


def check_and_build(
    run: Run,
    spec: ModelSpec,
    attempt: _Attempt,
    *,
    no_build: bool,
    force: bool,
    conversation: SpecConversation | None = None,
    house_prefix: bool = False,
) -> ModelResult:
    """One spec through every check, then (once approved) written and built. Raises
    ValidationFailed with the findings of the first check that fails."""
    ctx = run.context()
    conventions = detect_conventions(run.project)
    if house_prefix:
        spec = with_house_prefix(spec, conventions)
    sql_path, yml_path, exists = model_paths(spec, ctx, conventions)
    if exists and not force and not run.dry_run:
        raise WriteRefused(
            f"A model named '{spec.name}' already exists ({sql_path.relative_to(run.project.root)}).",
            hint="Pass --name to choose another name, or --force to replace it.",
        )
    attempt.sql = render_sql(spec)
    with run.timed("static"):
        static_check(spec, ctx, run.checks)
    # Only SQL that passed the safety checks ever runs: bound with `limit 0`, then as a temp table.
    run.progress("inferring tests from the model's data")
    with run.timed("tests"), Warehouse(run.project) as wh:
        compiled = compile_findings(attempt.sql, ctx.catalog, wh)
        if compiled:
            raise ValidationFailed(
                "The warehouse cannot compile the generated model:\n" + "\n".join(f"  {f}" for f in compiled),
                compiled,
            )
        found = model_tests(spec, ctx.catalog, wh)
    spec = spec.model_copy(update={"tests": found.tests, "columns": document_columns(spec, found.columns)})
    run.progress("linting with sqlfluff")
    with run.timed("lint"):
        sql, yml, fixed = render_and_lint(spec, ctx, run.checks, attempt)
    if conversation is not None:
        yml = with_provenance(yml, conversation.model, conversation.prompt_sha256)
    yml = place_properties(yml_path, yml, tests_key=conventions.tests_key)
    result = ModelResult(spec, sql_path, yml_path, sql, yml, findings=found.findings, lint_fixed=fixed)
    attempt.sql = sql
    if run.approve("Write and build this model?", shown=describe(result), action="write and build"):
        build(run, result, no_build=no_build)
    return result


_PLANNER_LINE = re.compile(r"^(?P<indent>[ ]+)planner: .*$", re.MULTILINE)


def with_provenance(yml: str, model: str, prompt_sha256: str) -> str:
    """`meta.martsmith` of a model an llm planned also records the model string and the hash of
    the prompt it was given (see llm/cache.py: the same hash keys the answer cache).

    >>> print(with_provenance("    martsmith:\\n      planner: llm:openai/x\\n", "openai/x", "ab12"))
        martsmith:
          planner: llm:openai/x
          llm_model: "openai/x"
          prompt_sha256: ab12
    <BLANKLINE>
    """
    m = _PLANNER_LINE.search(yml)
    if m is None:
        return yml
    indent = m.group("indent")
    extra = f"\n{indent}llm_model: {json.dumps(model)}\n{indent}prompt_sha256: {prompt_sha256}"
    return yml[: m.end()] + extra + yml[m.end() :]


def spec_findings(spec: ModelSpec, catalog: Catalog, worker: CheckWorker | None = None) -> list[Finding]:
    """Everything that can be checked before dbt: the spec, then its rendered SQL (in the check
    worker when there is one)."""
    findings = check_spec(spec, catalog)
    if findings:
        return findings
    if worker is not None:
        return worker.check_sql(render_sql(spec), catalog)
    from martsmith.validate.static import check_sql  # sqlglot: only without the worker, which runs it

    return check_sql(render_sql(spec), catalog)


def start_plan(
    request: str, ctx: Context, *, name: str | None, llm_model: str | None
) -> tuple[ModelSpec, SpecConversation | None]:
    """The first spec, and with an llm planner its conversation (to send later findings to)."""
    if not request or not request.strip():
        raise UsageError("The request is empty.", hint='Describe the model, e.g. "revenue by country per month".')
    check = lambda s: spec_findings(s, ctx.catalog)  # noqa: E731
    if llm_model:
        # The model sees every model, its aggregates marked as such (the prompt says not to
        # re-aggregate them); the offline planner never builds on them.
        conversation = start_llm_plan(
            request, ctx.catalog, model=llm_model, name=name, check=check, dialect=ctx.project.adapter_type
        )
        return conversation.spec, conversation
    return plan_offline(request, ctx.catalog.without_generated_aggregates(), name=name), None


def plan_request(request: str, ctx: Context, *, name: str | None, llm_model: str | None) -> ModelSpec:
    """The first spec `start_plan` makes."""
    return start_plan(request, ctx, name=name, llm_model=llm_model)[0]


def document_columns(spec: ModelSpec, preview: list[tuple[str, str]]) -> list[ColumnSpec]:
    """Every output column gets an entry in the YAML: a SQL body's columns are known only from
    the preview, so they are listed from it (structured specs describe theirs already)."""
    described = {c.name for c in spec.columns} | set(spec.output_columns)
    extra = [ColumnSpec(name=name) for name, _ in preview if name not in described]
    return list(spec.columns) + extra


def model_paths(spec: ModelSpec, ctx: Context, conventions: Conventions | None = None) -> tuple[Path, Path, bool]:
    """Where the model goes: the existing files of a same-named model, or the folder the
    project keeps that layer in, its YAML where the project keeps it (one per model, or the
    folder's shared file). Returns (sql_path, yml_path, exists)."""
    conventions = conventions or detect_conventions(ctx.project)
    for node in ctx.manifest.nodes.values():
        if node.resource_type == "model" and node.name == spec.name and node.package_name == ctx.project.name:
            sql_path = ctx.project.root / node.original_file_path
            if getattr(node, "patch_path", None):
                return sql_path, ctx.project.root / node.patch_path.split("://", 1)[-1], True
            return sql_path, conventions.properties_path(sql_path), True
    folder = ctx.project.root / conventions.folder(spec.layer) / (spec.folder or "")
    sql_path = folder / f"{spec.name}.sql"
    return sql_path, conventions.properties_path(sql_path), sql_path.exists()


def with_house_prefix(spec: ModelSpec, conventions: Conventions) -> ModelSpec:
    """The spec named with the project's mart prefix (`mart_`, `rpt_` ...) when it has one and
    the name was not chosen by the user; `dim_`/`fct_` name star-schema roles and are left to `star`."""
    prefix = conventions.mart_prefix
    if spec.layer != "marts" or not prefix or prefix in ROLE_PREFIXES or spec.name.startswith(prefix):
        return spec
    name = (prefix + spec.name)[:63].rstrip("_")
    return spec.model_copy(update={"name": check_identifier(name, "model name")})


def static_check(spec: ModelSpec, ctx: Context, worker: CheckWorker | None = None) -> None:
    """Spec and SQL checks; raises ValidationFailed."""
    findings = spec_findings(spec, ctx.catalog, worker)
    if findings:
        raise ValidationFailed(
            "The generated model failed static checks:\n" + "\n".join(f"  {f}" for f in findings), findings
        )


def render_and_lint(
    spec: ModelSpec, ctx: Context, linter: CheckWorker | None = None, attempt: _Attempt | None = None
) -> tuple[str, str, bool]:
    """(sql, yml, whether sqlfluff fixed something); raises on remaining violations (whose lines
    are those of the fixed SQL, kept in `attempt`)."""
    fname = f"{spec.name}.sql"
    sql = render_sql(spec)
    lint = linter.lint(sql, fname) if linter else lint_sql(sql, ctx.project.root, fname=fname)
    if attempt is not None:
        attempt.sql = lint.sql
    if lint.findings:
        raise ValidationFailed(
            "sqlfluff violations remain after auto-fix:\n" + "\n".join(f"  {f}" for f in lint.findings),
            lint.findings,
        )
    return lint.sql, render_properties(spec), lint.fixed


def build(run: Run, result: ModelResult, *, no_build: bool) -> None:
    """Write the files, then compile (--no-build) or build and test with dbt; undo everything
    on failure."""
    root = run.project.root
    files = {result.sql_path.relative_to(root): result.sql, result.yml_path.relative_to(root): result.yml}
    name = result.spec.name
    if no_build:
        run.progress("compiling with dbt")
        run.write(files, ["compile", "--select", name], what="dbt compile")
    else:
        run.progress(f"building and testing {name} with dbt")

        def count_rows(res) -> None:
            result.tests_passed, result.tests_warned = count_tests(res.nodes)
            relation = next((n.relation for n in res.nodes if n.resource_type == "model"), None)
            if relation:
                with Warehouse(run.project) as wh:
                    result.rows = int(wh.query(f"select count(*) from {relation}")[0][0])

        # One model: look its relations up on demand instead of caching whole schemas.
        run.write(
            files,
            ["build", "--select", name, "--no-populate-cache"],
            what="dbt build",
            guard=[(run.project.schema, name)],
            before_commit=count_rows,
        )
        result.built = True
    result.written = True


def describe(result: ModelResult) -> str:
    """The plan as shown before writing (and with --dry-run)."""
    # Everything here may come from the request, the LLM or the data: made safe piece by piece.
    spec = result.spec
    lines = [
        click.style(line(spec.name, 200), bold=True) + f"  ({line(spec.planner, 200)} planner)",
        f"  {line(spec.description)}",
    ]
    if spec.grain:
        lines.append("  grain: " + items(spec.grain, what="columns"))
    if spec.inputs:
        lines.append(
            "  reads: "
            + items(
                [
                    f"source('{i.source_name}', '{i.table}')" if i.kind == "source" else f"ref('{i.table}')"
                    for i in spec.inputs
                ],
                what="inputs",
            )
        )
    for note in spec.notes[:MAX_NOTES]:
        lines.append(click.style("  note: ", fg="yellow") + line(note))
    if len(spec.notes) > MAX_NOTES:
        lines.append(f"  … and {len(spec.notes) - MAX_NOTES:,} more notes")
    if spec.tests:
        lines.append(
            "  tests: "
            + items(
                [f"{t.name}({t.column})" if t.column else t.name for t in spec.tests], what="tests", limit=MAX_ITEMS * 2
            )
        )
    for finding in result.findings[:MAX_NOTES]:
        lines.append(click.style("  data finding: ", fg="magenta") + line(finding))
    if len(result.findings) > MAX_NOTES:
        lines.append(f"  … and {len(result.findings) - MAX_NOTES:,} more findings")
    return "\n".join(lines)


def summary(result: ModelResult, root: Path) -> str:
    """What was written and built."""
    files = [safe(p.relative_to(root)) for p in (result.sql_path, result.yml_path)]
    lines = [describe(result), "  files: " + ", ".join(files)]
    if result.built:
        warned = f", {result.tests_warned} warned" if result.tests_warned else ""
        lines.append(f"  built: {result.rows} rows; tests: {result.tests_passed} passed{warned}")
    elif result.written:
        lines.append("  compiled (not built: --no-build)")
    return "\n".join(lines)


__all__ = [
    "ModelResult",
    "check_and_build",
    "generate_model",
    "model_paths",
    "plan_request",
    "spec_findings",
    "start_plan",
]
