"""Declare the tables of a warehouse schema as a dbt source.

The warehouse's own comments (DuckDB `COMMENT ON`) become the descriptions, the column types
become `data_type`. The file goes where dbt's conventions put it:
`models/staging/<source>/_<source>__sources.yml`.

>>> print(render_sources_yaml("shop", "raw", "The shop.", [
...     TableInfo("orders", "One row per order.", [ColumnInfo("id", "integer", "Order id.")]),
... ]), end="")
version: 2
<BLANKLINE>
sources:
  - name: shop
    schema: raw
    description: The shop.
    tables:
      - name: orders
        description: One row per order.
        columns:
          - name: id
            data_type: integer
            description: Order id.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from martsmith.context.project import Project
from martsmith.context.suggest import suggest
from martsmith.context.warehouse import Warehouse, relation_sql
from martsmith.errors import UnknownSchemaError, UsageError, WriteRefused, filesystem_error
from martsmith.render.jinja_safe import data_problem, inert
from martsmith.spec import check_identifier
from martsmith.write import refuse_unsafe_jinja
from martsmith.write.journal import write_atomic


@dataclass
class ColumnInfo:
    name: str
    data_type: str
    description: str = ""


@dataclass
class TableInfo:
    name: str
    description: str = ""
    columns: list[ColumnInfo] = field(default_factory=list)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = suggest(word, candidates, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def read_schema(wh: Warehouse, schema: str, tables: list[str] | None = None) -> tuple[str, str, list[TableInfo]]:
    """(schema as the warehouse spells it, its comment, its tables and views with columns).

    Raises UnknownSchemaError when the schema or one of `tables` does not exist.
    """
    rows = wh.schema_comments()
    schemas = {name: comment or "" for name, comment in rows}
    actual = next((s for s in schemas if s.lower() == schema.lower()), None)
    if actual is None:
        names = sorted(schemas)
        raise UnknownSchemaError(
            f"The warehouse {wh.label} has no schema '{schema}'.{_did_you_mean(schema, names)}",
            names,
            hint="Schemas that exist: " + (", ".join(names) or "none") + ".",
        )
    relations = wh.relation_comments(actual)
    found = {name: comment or "" for name, comment in relations}
    if tables:
        missing = [t for t in tables if t not in found]
        if missing:
            raise UnknownSchemaError(
                f"Schema '{actual}' has no table {', '.join(repr(m) for m in missing)}."
                + _did_you_mean(missing[0], sorted(found)),
                sorted(schemas),
                hint="Tables in it: " + (", ".join(sorted(found)) or "none") + ".",
            )
        wanted = list(dict.fromkeys(tables))
    else:
        wanted = sorted(found)
    if not wanted:
        raise UnknownSchemaError(
            f"Schema '{actual}' has no tables to declare.",
            sorted(schemas),
            hint="Load data into it first (e.g. `martsmith init DIR --sample`).",
        )
    columns = wh.column_comments(actual)
    by_table: dict[str, list[ColumnInfo]] = {}
    for table, column, data_type, comment in columns:
        by_table.setdefault(table, []).append(ColumnInfo(column, str(data_type).lower(), comment or ""))
    infos = [TableInfo(t, found[t], by_table.get(t, [])) for t in wanted]
    return actual, schemas[actual], infos


def unusable_names(infos: list[TableInfo]) -> tuple[list[TableInfo], list[str]]:
    """Tables and columns whose *names* dbt would execute as Jinja are left out of the
    declaration (their comments are only prose, made inert when written). Returns the usable
    tables and one note per name left out."""
    kept, notes = [], []
    for t in infos:
        problem = data_problem(t.name)
        if problem:
            notes.append(f"table {t.name!r} left out: its name {problem}")
            continue
        columns = []
        for c in t.columns:
            problem = data_problem(c.name) or data_problem(c.data_type)
            if problem:
                notes.append(f"column {t.name}.{c.name!r} left out: {problem}")
            else:
                columns.append(c)
        kept.append(TableInfo(t.name, t.description, columns))
    return kept, notes


class _BlockDumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as dbt's docs write YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _dump(data: dict) -> str:
    return yaml.dump(
        data,
        Dumper=_BlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1000,
        indent=2,
    )


def render_sources_yaml(source_name: str, schema: str, description: str, tables: list[TableInfo]) -> str:
    """The sources file, deterministically: keys in dbt's order, empty descriptions left out."""
    out_tables = []
    for t in tables:
        entry: dict = {"name": t.name}
        if t.description:
            entry["description"] = inert(t.description)
        cols = []
        for c in t.columns:
            col: dict = {"name": c.name, "data_type": c.data_type}
            if c.description:
                col["description"] = inert(c.description)
            cols.append(col)
        if cols:
            entry["columns"] = cols
        out_tables.append(entry)
    source: dict = {"name": source_name, "schema": schema}
    if description:
        source["description"] = inert(description)
    source["tables"] = out_tables
    header = _dump({"version": 2})
    return header + "\n" + _dump({"sources": [source]})


def sources_path(project: Project, source_name: str) -> Path:
    return project.models_dir / "staging" / source_name / f"_{source_name}__sources.yml"


def _declared_elsewhere(project: Project, source_name: str, target: Path) -> Path | None:
    """Another YAML file of the project that already declares a source by this name."""
    for root in project.model_paths:
        base = project.root / root
        for path in sorted(base.rglob("*.yml")) + sorted(base.rglob("*.yaml")):
            if path.resolve() == target.resolve():
                continue
            try:
                data = yaml.safe_load(path.read_text()) or {}
            except (yaml.YAMLError, OSError):
                continue
            for src in (data.get("sources") or []) if isinstance(data, dict) else []:
                if isinstance(src, dict) and src.get("name") == source_name:
                    return path
    return None


def _write_atomic(path: Path, text: str) -> None:
    """Write the whole file or nothing: a temp file in the same folder, then a rename.
    A file system that refuses (permissions, a full disk) is one WriteRefused naming `path`."""
    if path.exists() and not os.access(path, os.W_OK):
        # The rename would replace it anyway (the folder is what counts): a read-only file is
        # someone saying "don't", even with --force.
        raise filesystem_error(PermissionError(errno.EACCES, "Permission denied", str(path)), writing=True)
    try:
        _replace(path, text)
    except OSError as exc:
        raise filesystem_error(exc, writing=True, path=path) from None


def _replace(path: Path, text: str) -> None:
    created: list[Path] = []
    d = path.parent
    while not d.exists():
        created.append(d)
        d = d.parent

    try:
        write_atomic(path, text.encode())
    except BaseException:
        for d in created:  # deepest first
            if d.exists() and not any(d.iterdir()):
                d.rmdir()
        raise


def declare_source(
    project: Project,
    schema: str,
    source_name: str | None = None,
    *,
    tables: list[str] | None = None,
    force: bool = False,
    description: str | None = None,
    notes: list[str] | None = None,
) -> Path:
    """Write `models/staging/<source>/_<source>__sources.yml` declaring the tables of `schema`.

    The source is named after the schema unless `source_name` is given; its description is
    `description`, else the schema's comment, else a generic one. Refuses (WriteRefused)
    to replace an existing file unless `force`, or to declare a source another file declares.
    Names of tables or columns that dbt would run as Jinja are left out, each with a line in
    `notes`. Returns the path written.
    """
    name = source_name or schema.lower()
    try:
        check_identifier(name, "source name")
    except ValueError as exc:
        raise UsageError(str(exc), hint="Pass a valid name with --name.") from exc
    path = sources_path(project, name)
    rel = path.relative_to(project.root) if path.is_relative_to(project.root) else path
    if path.exists() and not force:
        raise WriteRefused(
            f"{rel} already exists.",
            hint="Pass --force to replace it, or --name to declare the schema as another source.",
        )
    other = _declared_elsewhere(project, name, path)
    if other is not None:
        raise WriteRefused(
            f"Source '{name}' is already declared in {other.relative_to(project.root)}.",
            hint="Pass --name to declare the schema under another source name.",
        )
    with Warehouse(project) as wh:
        actual, comment, infos = read_schema(wh, schema, tables)
    infos, skipped = unusable_names(infos)
    if notes is not None:
        notes += skipped
    description = description or comment or f"Tables of the `{actual}` schema."
    text = render_sources_yaml(name, actual, description, infos)

    refuse_unsafe_jinja({path.relative_to(project.root): text}, project.root)
    _write_atomic(path, text)
    return path


def source_summary(project: Project, path: Path) -> dict:
    """What a sources file declares, with each table's column and row counts (for summaries)."""
    data = yaml.safe_load(path.read_text()) or {}
    source = (data.get("sources") or [{}])[0]
    schema = source.get("schema", "")
    tables = []
    with Warehouse(project) as wh:
        for t in source.get("tables") or []:
            (rows,) = wh.query(f"select count(*) from {relation_sql(schema, t['name'])}")[0]
            tables.append({"name": t["name"], "columns": len(t.get("columns") or []), "rows": int(rows)})
    return {"source": source.get("name"), "schema": schema, "path": str(path), "tables": tables}


__all__ = [
    "ColumnInfo",
    "TableInfo",
    "UnknownSchemaError",
    "declare_source",
    "read_schema",
    "render_sources_yaml",
    "source_summary",
    "sources_path",
]
