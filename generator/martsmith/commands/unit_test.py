"""`martsmith unit-test`: a dbt unit test for a model, from real input rows."""

from __future__ import annotations

import click

from martsmith.commands.options import confirm_options, format_option, project_options


@click.command("unit-test")
@click.argument("model")
@click.option(
    "--rows",
    "max_rows",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="At most this many rows per input.",
)
@confirm_options("Show the unit test; write and run nothing.")
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
    # The pipeline is imported when the command runs: it keeps --help fast.
    from martsmith.pipelines.run import Run
    from martsmith.pipelines.unit_test import generate_unit_test

    with Run.start(project, dry_run=dry_run, yes=yes, output_format=output_format) as run:
        generate_unit_test(run, model, max_rows=max_rows)
