"""`martsmith tests`: infer data tests that fit the data (and rules in plain words), check them
against the data, merge them into the project's YAML and run `dbt test`."""

from __future__ import annotations

import click

from martsmith.commands.options import confirm_options, format_option, llm_option, project_options


@click.command()
@click.argument("nodes", nargs=-1, required=True)
@click.option(
    "--rules",
    default=None,
    metavar="TEXT",
    help='Rules in plain words, separated by ";" (e.g. "amount is never negative; every order has a customer").',
)
@llm_option
@click.option("--explain", is_flag=True, help="Print each test with the evidence behind it.")
@confirm_options("Show the tests, the findings and the YAML diff; write nothing.")
@click.option("--include-failing", is_flag=True, help="Also write the tests the data fails today, with severity warn.")
@format_option
@project_options
def tests(nodes, rules, llm_model, explain, dry_run, yes, include_failing, output_format, project) -> None:
    """Infer data tests for NODES (as dbt selects them) from their data and merge them into YAML.

    Every candidate (keys, not_null, accepted values, relationships, ranges, recency...) is run
    against the data first: what the data violates is reported as a finding with example keys,
    not written as a passing test. The YAML keeps your comments and order; then `dbt test`
    runs, and the YAML is rolled back if a new test fails.

    \b
    Examples:
      martsmith tests source:shop.orders --yes
      martsmith tests stg_orders --explain --dry-run
      martsmith tests source:shop.orders --rules "amount is never negative; every order has a customer"
    """
    # The pipeline is imported when the command runs: it keeps --help fast.
    from martsmith.pipelines.run import Run
    from martsmith.pipelines.tests import generate_tests

    with Run.start(project, dry_run=dry_run, yes=yes, output_format=output_format) as run:
        generate_tests(
            run, list(nodes), rules=rules, llm_model=llm_model, explain=explain, include_failing=include_failing
        )
