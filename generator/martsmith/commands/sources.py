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
    quiet = output_format == "json"
    progress(f"Reading schema {schema} of {proj.target_name}", quiet=quiet)
    wanted, left_out = _not_built_by_dbt(proj, schema, list(tables), quiet=quiet)
    notes: list[str] = []
    path = declare_source(proj, schema, source_name, tables=wanted, force=force, notes=notes)
    summary = source_summary(proj, path)
    summary["notes"] = notes
    summary["left_out"] = left_out
    if output_format == "json":
        emit_json(summary)
    else:
        click.echo(_summary(summary, proj.root))
        if left_out["count"]:
            click.echo("  " + _left_out_line(left_out))
        for note in notes:
            click.echo(f"  note: {note}")


def _left_out_line(left_out: dict) -> str:
    nouns = {"temporary": "temporary relation"}
    kinds = ", ".join(f"{n} {nouns.get(kind, kind)}{'s' if n > 1 else ''}" for kind, n in left_out["by"].items())
    count = left_out["count"]
    return (
        f"left out {count} relation{'s' if count > 1 else ''} this dbt project builds itself ({kinds}): "
        "read them with ref(), not as a source"
    )


def _not_built_by_dbt(proj, schema: str, tables: list[str], *, quiet: bool) -> tuple[list[str] | None, dict]:
    """The tables to declare (None: every table of the schema) without the relations the
    project's own dbt nodes build (models, seeds, snapshots, martsmith's generated models) or
    dbt's and martsmith's temporary ones, and what was left out: {"count", "by" kind, "tables"}."""
    # Imported when the command runs: reading the manifest starts dbt.
    from martsmith.context.load import built_by_dbt, load_manifest
    from martsmith.context.warehouse import Warehouse  # loads the warehouse driver
    from martsmith.errors import UsageError

    with Warehouse(proj) as wh:
        actual = next((s for s, _ in wh.schema_comments() if s.lower() == schema.lower()), None)
        names = sorted(n for n, _ in wh.relation_comments(actual)) if actual is not None else []
    asked = tables or names
    built = (
        built_by_dbt(load_manifest(proj, lambda m: progress(m, quiet=quiet)), actual or schema, asked) if asked else {}
    )
    by: dict[str, int] = {}
    for kind in built.values():
        by[kind] = by.get(kind, 0) + 1
    left_out = {"count": len(built), "by": dict(sorted(by.items())), "tables": sorted(built)}
    if not built:
        return tables or None, left_out
    wanted = [n for n in asked if n not in built]
    if not wanted:
        raise UsageError(
            f"Nothing to declare in schema '{actual}': {'the tables named are' if tables else 'every table of it is'} "
            "built by this dbt project.",
            hint=_left_out_line(left_out)[0].upper() + _left_out_line(left_out)[1:] + ".",
        )
    return wanted, left_out
