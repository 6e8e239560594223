"""`martsmith sources`: declare the tables of a warehouse schema as a dbt source."""

from __future__ import annotations

import click

from martsmith.commands.options import format_option, project_options
from martsmith.commands.output import emit_json, line, progress, safe


def _summary(summary: dict, root) -> str:
    from pathlib import Path

    path = Path(summary["path"])
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    tables = summary["tables"]
    # Schema and table names are the warehouse's: quoted identifiers may hold anything.
    lines = [
        click.style(f"Wrote {safe(rel)}", bold=True)
        + f": source '{line(summary['source'], 200)}' (schema {line(summary['schema'], 200)}), {len(tables)} tables"
    ]
    names = [line(t["name"], 80) for t in tables]
    width = max((len(n) for n in names), default=0)
    lines += [f"  {n:<{width}} {t['columns']:>3} columns {t['rows']:>12,} rows" for n, t in zip(names, tables)]
    return "\n".join(lines)


@click.command()
@click.option("--schema", required=True, help="Warehouse schema whose tables to declare.")
@click.option("--name", "source_name", default=None, help="dbt source name (default: the schema name).")
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="TABLE",
    help="Declare only this table (repeatable; default: every table of the schema).",
)
@click.option("--force", is_flag=True, help="Replace the sources file if it exists.")
@format_option
@project_options
def sources(
    schema: str, source_name: str | None, tables: tuple[str, ...], force: bool, output_format: str, project
) -> None:
    """Declare the tables of warehouse schema SCHEMA as a dbt source.

    Writes models/staging/<source>/_<source>__sources.yml with every table and column of the
    schema, their types, and the warehouse's comments as descriptions. Refuses to replace an
    existing file unless --force.

    \b
    Examples:
      martsmith sources --schema raw --name shop
      martsmith sources --schema stripe --table charges --table refunds --force
    """
    # Imported when the command runs: the warehouse reader loads DuckDB and pydantic.
    from martsmith.scaffold.sources import declare_source, source_summary

    proj = project(writes=True)
    progress(f"Reading schema {schema} of {proj.target_name}", quiet=output_format == "json")
    notes: list[str] = []
    path = declare_source(proj, schema, source_name, tables=list(tables) or None, force=force, notes=notes)
    summary = source_summary(proj, path)
    summary["notes"] = notes
    if output_format == "json":
        emit_json(summary)
    else:
        click.echo(_summary(summary, proj.root))
        for note in notes:
            click.echo(f"  note: {note}")
