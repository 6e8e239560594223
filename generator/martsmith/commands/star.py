"""`martsmith star`: a description (or just a source) -> a star schema: staging models,
dimensions with unknown members, a date dimension, facts, their tests and an ERD."""

from __future__ import annotations

import click

from martsmith.commands.options import confirm_options, format_option, llm_option, project_options
from martsmith.errors import UsageError


@click.command()
@click.argument("description", required=False)
@click.option(
    "--from-source",
    "source",
    default=None,
    metavar="SOURCE",
    help="The dbt source to model (default: the project's only source).",
)
@click.option(
    "--snowflake", is_flag=True, help="Normalise hierarchies (product -> category) into their own dimensions."
)
@click.option(
    "--area", default=None, help="Marts sub-folder (default: from the description, e.g. 'sales', else 'core')."
)
@click.option(
    "--scd2",
    "scd2",
    multiple=True,
    metavar="ENTITY",
    help="Make dimension ENTITY (e.g. customer) SCD type 2: one row per version, from the versions "
    "in the data (several rows per key, dated by an updated_at-like column); facts get the version "
    "valid at their event time. Refused where the data carries no history. Repeatable.",
)
@llm_option
@confirm_options("Show the layout, reasons and files; write and build nothing.")
@format_option
@project_options
def star(description, source, snowflake, area, scd2, llm_model, dry_run, yes, output_format, project) -> None:
    """Generate a star schema from DESCRIPTION, or propose one for a source.

    Facts, dimensions (surrogate keys, an unknown member each), a date dimension and the staging
    models they need are planned from the description and the keys in the data, rendered as dbt
    SQL + YAML with key and relationship tests and a Mermaid ERD, checked, then built and tested
    in one dbt invocation. If anything fails, nothing is written.

    Dimensions are SCD type 1 (the latest values). With --scd2 ENTITY a dimension keeps its
    history instead: where the source holds several rows per key dated by an updated_at-like
    column, those rows are the versions (valid_from, valid_to, is_current, a surrogate key per
    version), and each fact row points at the version valid at its event time. The history is
    derived from the rows rather than a dbt snapshot, which would only record from its first
    run: it is complete from the first build and rebuilds identically.

    \b
    Examples:
      martsmith star "sales star schema: order lines as the fact, with customers, products and dates as dimensions" --yes
      martsmith star --from-source shop --dry-run
      martsmith star "order lines as the fact with products" --snowflake --yes
      martsmith star "order lines as the fact, with customers and dates" --scd2 customer --yes
    """
    if not description and not source:
        raise UsageError(
            "Give a DESCRIPTION or --from-source SOURCE.", hint="e.g. martsmith star --from-source shop --dry-run"
        )
    # The pipeline is imported when the command runs: it keeps --help fast.
    from martsmith.pipelines.run import Run
    from martsmith.pipelines.star import generate_star

    with Run.start(project, dry_run=dry_run, yes=yes, output_format=output_format, checks=True) as run:
        generate_star(run, description, source=source, snowflake=snowflake, area=area, llm_model=llm_model, scd2=scd2)
