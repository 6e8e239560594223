"""`martsmith init`: scaffold an analytics dbt project, optionally with the sample shop data."""

from __future__ import annotations

from pathlib import Path

import click

from martsmith.commands.options import format_option
from martsmith.commands.output import emit_json, progress, safe
from martsmith.errors import UsageError


def _summary(result) -> str:
    lines = [click.style(f"Created dbt project '{result.name}'", bold=True) + f" in {safe(result.root)}"]
    lines += [f"  {f}" for f in result.files]
    if result.row_counts:
        lines.append(f"Sample data in {result.database.name if result.database else 'the warehouse'}, schema raw:")
        width = max(len(t) for t in result.row_counts)
        lines += [f"  raw.{t:<{width}} {n:>12,} rows" for t, n in result.row_counts.items()]
    lines.append("Next:")
    lines.append(f"  cd {safe(result.root)}")
    if result.sources_file:
        lines.append('  martsmith model "total revenue by customer country per month" --yes')
    else:
        lines.append("  martsmith sources --schema SCHEMA   # once data is loaded")
    return "\n".join(lines)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--sample/--no-sample",
    default=False,
    show_default=True,
    help="Load the sample shop dataset into schema raw and declare it as source 'shop'.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Sample size with --sample: 1.0 (the default) is about 10,000 order items, 1000 about 10 million.",
)
@click.option("--name", default=None, help="dbt project and profile name (default: from the folder name).")
@click.option(
    "--adapter",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    default="duckdb",
    show_default=True,
    help="Warehouse of the profile: a DuckDB file in the project; PostgreSQL from PGHOST, PGPORT, PGUSER, "
    "PGDATABASE (PGPASSWORD is read when dbt runs); or Apache Spark in the process (dbt-spark's session "
    "method, a local metastore in DIR/.spark; needs pyspark and Java 17).",
)
@format_option
def init(
    directory: Path, sample: bool, scale: float | None, name: str | None, adapter: str, output_format: str
) -> None:
    """Scaffold a dbt project in DIRECTORY (DuckDB by default) that installs the martsmith package.

    Writes dbt_project.yml, profiles.yml (a DuckDB file inside the project), packages.yml,
    .sqlfluff, .gitignore and models/staging + models/marts, then runs `dbt deps`. With
    --sample it also loads a realistic raw shop dataset (customers, products, orders,
    order_items, payments, with the data problems real exports have) and declares it as the
    dbt source `shop`. Refuses a folder that already holds a dbt project; if anything fails,
    what init created is removed.

    \b
    Examples:
      martsmith init shop --sample
      martsmith init bench --sample --scale 1000
      martsmith init analytics --name acme
      PGHOST=db.internal PGDATABASE=analytics martsmith init shop --sample --adapter postgres
      martsmith init shop --sample --adapter spark
    """
    # Imported when the command runs: scaffolding loads pydantic and DuckDB, which --help needs not.
    from martsmith.scaffold.init import init_project

    if scale is not None and not sample:
        raise UsageError(
            "--scale sizes the sample data: use it with --sample.",
            hint=f"martsmith init {directory} --sample --scale {scale:g}",
        )
    quiet = output_format == "json"
    result = init_project(
        directory,
        sample=sample,
        scale=scale or 1.0,
        name=name,
        progress=lambda m: progress(m, quiet=quiet),
        adapter=adapter,
    )
    if output_format == "json":
        emit_json(result.to_dict())
    else:
        click.echo(_summary(result))
