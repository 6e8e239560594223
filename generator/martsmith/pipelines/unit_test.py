"""`martsmith unit-test`: a model -> real input rows and the rows it returns on them, as a dbt unit
test in its YAML (unittests/generate.py) -> written and run with `dbt test`, kept only if it passes.
"""

from __future__ import annotations

from pathlib import Path

import click

from martsmith.commands.output import line, safe
from martsmith.context.dbt import NodeResult
from martsmith.errors import UsageError
from martsmith.pipelines.run import Run
from martsmith.unittests.generate import DEFAULT_ROWS, UnitTestResult, plan_unit_test


def generate_unit_test(run: Run, model: str, *, max_rows: int = DEFAULT_ROWS) -> UnitTestResult:
    """Plan a unit test for `model` from real input rows; then (unless --dry-run, once approved)
    write it and keep it only if dbt passes it; then the summary."""
    if max_rows < 1:
        raise UsageError("--rows must be at least 1.")
    ctx = run.context()
    with run.timed("plan"):
        result = plan_unit_test(ctx, model, max_rows=max_rows, progress=run.progress)
    root = run.project.root
    if run.approve("Write this unit test and run it?", shown=describe(result, root), action="write and test"):
        write_and_test(run, result)
    data = result.as_dict(root)
    if run.dry_run:
        data["yml"] = result.yml
    text = describe(result, root) + ("" if run.dry_run else "\n  dbt test: passed")
    run.report(data, text, previews={str(result.yml_path.relative_to(root)): result.yml})
    return result


def write_and_test(run: Run, result: UnitTestResult) -> None:
    """Write the YAML and run the unit test with dbt; put the file back unless it passes."""
    selector = f"{result.model},unit_test:{result.name}"
    run.progress(f"running dbt test --select {selector}")

    def ours_failed(res) -> list:
        ours = [n for n in res.nodes if n.name == result.name]
        if not ours:  # it did not even run: report dbt's own error
            return [
                NodeResult(result.name, result.name, "unit_test", "error", res.error or "the unit test did not run")
            ]
        return [n for n in ours if n.status != "pass"]

    run.write(
        {result.yml_path.relative_to(run.project.root): result.yml},
        ["test", "--select", selector],
        what="dbt test of the generated unit test",
        failures=ours_failed,
        hint="Run with --dry-run to see the fixture, or with --format json for the coverage.",
    )
    result.written = result.passed = True


def describe(result: UnitTestResult, root: Path) -> str:
    """The unit test as shown before writing (and with --dry-run)."""
    # Model and input names come from the project, coverage reasons quote its SQL and data.
    lines = [click.style(line(result.name, 200), bold=True) + f"  (unit test of {line(result.model, 200)})"]
    for inp, rows in result.given:
        lines.append(f"  given {line(inp, 200)}: {len(rows)} rows")
    lines.append(f"  expect: {len(result.expect)} rows")
    for c in result.coverage:
        if c.covered:
            lines.append(click.style("  covers: ", fg="green") + line(c.reason))
        elif c.available:
            lines.append(click.style("  not covered (--rows too small): ", fg="yellow") + line(c.reason))
    lines.append(f"  file: {safe(result.yml_path.relative_to(root))}")
    return "\n".join(lines)


__all__ = ["describe", "generate_unit_test", "write_and_test"]
