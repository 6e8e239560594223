"""`martsmith model`: one request in plain words -> one linted, built and tested dbt model."""

from __future__ import annotations

import click

from martsmith.commands.options import confirm_options, format_option, llm_option, project_options


@click.command()
@click.argument("request")
@click.option("--name", default=None, help="Model name (default: derived from the request).")
@llm_option
@confirm_options("Show the plan and the files; write and build nothing.")
@click.option("--no-build", is_flag=True, help="Compile only; don't build or test in the warehouse.")
@click.option("--force", is_flag=True, help="Replace an existing model of the same name.")
@format_option
@project_options
def model(request, name, llm_model, dry_run, yes, no_build, force, output_format, project) -> None:
    """Generate a dbt model from REQUEST, in plain words.

    The model is planned (offline by default, or with --llm), rendered as dbt SQL + YAML,
    checked (single SELECT, columns against the catalog, sqlfluff), then built and tested with
    dbt. If any step fails, nothing is written and the warehouse is left as it was.

    \b
    Examples:
      martsmith model "total revenue by customer country per month" --yes
      martsmith model "number of orders per status, completed orders only" --dry-run
      martsmith model "top 10 products by quantity sold" --name top_products --yes
      martsmith model "weekly active accounts by plan" --llm openai/gpt-4.1-mini --yes
    """
    # The pipeline is imported when the command runs: it keeps --help fast.
    from martsmith.pipelines.model import generate_model
    from martsmith.pipelines.run import Run

    with Run.start(project, dry_run=dry_run, yes=yes, output_format=output_format, checks=True) as run:
        generate_model(run, request, name=name, llm_model=llm_model, no_build=no_build, force=force)
