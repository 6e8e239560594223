"""`martsmith status`: what martsmith generated in this project."""

from __future__ import annotations

import click

from martsmith.commands.options import format_option, project_options
from martsmith.commands.output import emit_json, line, progress


@click.command()
@format_option
@project_options
def status(output_format, project) -> None:
    """List the models martsmith generated here: path, rows, tests, and the request.

    Models are found by the `meta.martsmith` provenance in their YAML, so hand edits keep them
    listed; rows are counted in the warehouse ("not built" when the relation is missing).

    \b
    Examples:
      martsmith status
      martsmith status --format json
    """
    # Imported when the command runs: reading the project loads dbt's wrapper and the catalog.
    from martsmith.context.generated import generated_models
    from martsmith.context.load import load_context

    quiet = output_format == "json"
    ctx = load_context(project(), lambda m: progress(m, quiet=quiet), profile=False, need_package=False)
    models = generated_models(ctx)
    if output_format == "json":
        emit_json({"models": [m.as_dict() for m in models]})
        return
    if not models:
        click.echo("No martsmith-generated models in this project yet.")
        click.echo('Try: martsmith model "number of orders per status" --yes')
        return
    # Paths and requests come from the project's files (the request from whoever wrote it).
    paths = [line(m.path, 200) for m in models]
    width = max(len(p) for p in paths)
    click.echo(f"{'model':<{width}}  {'rows':>9}  {'tests':>5}  {'unit':>4}  request")
    for m, path in zip(models, paths):
        rows = "not built" if m.rows is None else f"{m.rows:,}"
        request = line(m.request, 10_000)
        request = request if len(request) <= 60 else request[:57] + "..."
        click.echo(f"{path:<{width}}  {rows:>9}  {m.data_tests:>5}  {m.unit_tests:>4}  {request}")
    built = [m for m in models if m.rows is not None]
    click.echo(
        f"{len(models)} models ({len(built)} built), {sum(m.data_tests for m in models)} data tests, "
        f"{sum(m.unit_tests for m in models)} unit tests."
    )
