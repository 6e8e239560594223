"""`martsmith unit-test`: a dbt unit test for a model, from real input rows."""

from __future__ import annotations

import click

from martsmith.commands.options import ask_to_write, emit_json, format_option, progress, project_options
from martsmith.commands.output import line, preview, safe


def _describe(result, root) -> str:
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


@click.command("unit-test")
@click.argument("model")
@click.option("--rows", "max_rows", type=click.IntRange(min=1), default=5, show_default=True,
              help="At most this many rows per input.")
@click.option("--dry-run", is_flag=True, help="Show the unit test; write and run nothing.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (required when not in a terminal).")
@format_option
@project_options
def unit_test(model, max_rows, dry_run, yes, output_format, project) -> None:
    """Write a dbt unit test for MODEL from a few real rows of its inputs.

    The rows are picked to exercise the model's joins (keys with and without a match), its CASE
    branches, its WHERE filters and nulls; the expected rows come from running the model's SQL on
    exactly those rows. The test goes into the model's YAML under `unit_tests:` and is kept only
    if `dbt test` passes it. The model and its inputs must be built.

    \b
    Examples:
      martsmith unit-test fct_orders --yes
      martsmith unit-test fct_orders --rows 3 --dry-run
    """
    from martsmith.unittests.generate import generate_unit_test

    proj = project(writes=not dry_run)
    quiet = output_format == "json"
    result = generate_unit_test(
        model,
        proj,
        max_rows=max_rows,
        dry_run=dry_run,
        confirm=lambda r: ask_to_write(
            "Write this unit test and run it?", yes=yes, shown=_describe(r, proj.root), action="write and test"
        ),
        progress=lambda m: progress(m, quiet=quiet),
    )
    if output_format == "json":
        data = result.as_dict(proj.root)
        if dry_run:
            data["yml"] = result.yml
        emit_json(data)
        return
    click.echo(_describe(result, proj.root))
    if dry_run:
        click.echo(click.style(f"\n-- {safe(result.yml_path.relative_to(proj.root))} (not written)", fg="cyan"))
        click.echo(preview(result.yml), nl=False)
        return
    click.echo("  dbt test: passed")
