"""`martsmith tests`: nodes -> context -> tests inferred from the data (and rules in plain words),
checked against it and merged into the nodes' YAML in memory (inference/suite.py) -> written,
all or nothing, and run with `dbt test`, rolled back if any new test fails.
"""

from __future__ import annotations

import click

from martsmith.commands.output import items, line, safe
from martsmith.context.catalog import Table
from martsmith.errors import ProjectError
from martsmith.inference.merge import spec_identity
from martsmith.inference.suite import TestsPlan, plan_tests
from martsmith.pipelines.run import Run

MAX_SHOWN = 50  # tests, findings and notes shown per node


def generate_tests(
    run: Run,
    nodes: list[str],
    *,
    rules: str | None = None,
    llm_model: str | None = None,
    explain: bool = False,
    include_failing: bool = False,
) -> TestsPlan:
    """Plan the tests of `nodes`; then (unless --dry-run, once approved, if any file changes)
    write them and run them; then the summary."""
    ctx = run.context()
    plan = plan_tests(
        ctx, nodes, rules=rules, llm_model=llm_model, include_failing=include_failing, progress=run.progress
    )
    described = describe_plan(plan, explain=explain)
    if plan.changed and run.approve(
        "Write these tests and run dbt test?", shown=described, action="write the tests", show="always"
    ):
        apply_tests(plan, run)
    data = plan.as_dict()
    if run.dry_run:
        data["diff"] = plan.diff()
        text = described
    elif not plan.changed:
        text = described + "\nNothing written."
    else:
        files = ", ".join(safe(p.relative_to(run.project.root)) for p in plan.changed)
        warned = f", {plan.tests_warned} warned" if plan.tests_warned else ""
        text = f"Wrote {files}; dbt test: {plan.tests_passed} passed{warned}."
    run.report(data, text, previews={"YAML changes": plan.diff() or "(none)\n"})
    return plan


def _existing_test_ids(manifest, tables: list[Table]) -> set[str]:
    ids = {t.unique_id for t in tables}
    return {
        uid
        for uid, n in manifest.nodes.items()
        if n.resource_type == "test" and (set(n.depends_on.nodes) & ids or getattr(n, "attached_node", None) in ids)
    }


def apply_tests(plan: TestsPlan, run: Run) -> TestsPlan:
    """Write the merged YAML (all or nothing), then `dbt test` the nodes. A new test that
    fails in dbt rolls every file back."""
    if not plan.changed:
        return plan
    ctx = run.context()
    tables = [n.table for n in plan.nodes]
    before = _existing_test_ids(ctx.manifest, tables)
    run.progress("running dbt test on " + ", ".join(t.label for t in tables))

    def new_failures(res) -> list:
        if res.raw is None and not res.success:
            raise ProjectError(
                "dbt could not run the tests: " + (res.error or "unknown error"), hint="Nothing was kept."
            )
        # Tests that failed before this run are the user's business, not a reason to undo ours.
        return [
            n
            for n in res.nodes
            if n.resource_type == "test"
            and n.unique_id not in before
            and n.status in ("error", "fail", "runtime error")
        ]

    files = {path.relative_to(ctx.project.root): after for path, (_, after) in plan.changed.items()}
    res = run.write(
        files, ["test", "--select", *[t.label for t in tables]], what="dbt test of the new tests", failures=new_failures
    )
    ours = [n for n in res.nodes if n.resource_type == "test" and n.unique_id not in before]
    plan.tests_passed = sum(n.status == "pass" for n in ours)
    plan.tests_warned = sum(n.status == "warn" for n in ours)
    plan.written = True
    return plan


def _value(v) -> str:
    """An argument's value: a list shows its first values and how many more."""
    if isinstance(v, (list, tuple)):
        return "[" + items(v, what="values", render=repr) + "]"
    return line(v, 200)


def _test_label(t) -> str:
    # Names, columns and values (accepted values: data; rules: the user or an LLM) made safe.
    args = ""
    if t.arguments:
        args = " " + ", ".join(f"{line(k, 80)}={_value(v)}" for k, v in t.arguments.items())
    where = f"({line(t.column, 200)})" if t.column else ""
    sev = " [warn]" if t.severity == "warn" else ""
    return f"{line(t.name, 200)}{where}{args}{sev}"


def _capped(values: list, what: str) -> tuple[list, str | None]:
    if len(values) <= MAX_SHOWN:
        return values, None
    return values[:MAX_SHOWN], f"  … and {len(values) - MAX_SHOWN:,} more {what}"


def describe_plan(plan: TestsPlan, *, explain: bool) -> str:
    """Per node: the tests to add (with their evidence under --explain), those already declared,
    what the data fails, the candidates dropped."""
    lines = []
    for node in plan.nodes:
        lines.append(click.style(line(node.table.label, 200), bold=True) + f"  ({node.profile.row_count:,} rows)")
        notes, more = _capped(node.notes, "notes")
        lines += [f"  {line(note)}" for note in notes] + ([more] if more else [])
        written = {spec_identity(t) for t in node.written}
        shown, more = _capped(node.written, "tests")
        for t in shown:
            lines.append(click.style("  + ", fg="green") + _test_label(t))
            if explain and t.reason:
                lines.append(f"      {line(t.reason)}")
        lines += [more] if more else []
        if node.present:
            lines.append(
                f"  = {len(node.present)} already declared: "
                + items(node.present, what="tests", render=_test_label, limit=MAX_SHOWN, each=400)
            )
        shown, more = _capped(node.findings, "findings")
        for c in shown:
            kept = " (written as warn)" if spec_identity(c.test) in written else ""
            lines.append(click.style("  ! ", fg="yellow") + line(c.message) + kept)
            if explain:
                lines.append(f"      from {_test_label(c.test)}: {line(c.test.reason)}")
        lines += [more] if more else []
        shown, more = _capped([c for c in node.checks if c.dropped], "dropped candidates")
        for c in shown:
            lines.append(click.style("  - ", fg="cyan") + line(c.dropped))
        lines += [more] if more else []
        if node.profile.row_count and not node.written and not node.present:
            lines.append("  no tests to add")
    if plan.nodes and any(n.findings for n in plan.nodes) and not plan.include_failing:
        lines.append("Failing candidates are not written; pass --include-failing to write them with severity warn.")
    return "\n".join(lines)


__all__ = ["apply_tests", "describe_plan", "generate_tests"]
