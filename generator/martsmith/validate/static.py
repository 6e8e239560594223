"""Checks that need no warehouse round trip: the spec against the catalog, and the rendered SQL
(after `render_static`) for shape, safety and columns.

>>> [str(f) for f in check_safety("select 1 as x; drop table t")]
['[safety] expected exactly one SELECT statement, found 2 statements']
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError

from martsmith.context.catalog import Catalog, Table, type_family
from martsmith.render.jinja_static import JinjaCheckError, render_static
from martsmith.spec import ModelSpec
from martsmith.validate.findings import Finding

DIALECT = "duckdb"

# Functions that read or write files, reach the network or the environment, or run code.
FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w+|.*_scan|glob|sniff_csv|getenv|current_setting|set_config|system|shell|"
    r"http_\w+|query|query_table|load_extension|copy_\w+|export_\w+|pg_read_\w+|lo_\w+|"
    r"dblink\w*|url\w*|to_file|write_\w+|\w*_file)$",
    re.IGNORECASE,
)
FORBIDDEN_NODES = (
    exp.Create, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Alter, exp.Command,
    exp.Pragma, exp.Copy, exp.Attach, exp.Detach, exp.Install, exp.Use, exp.Set, exp.Transaction,
    exp.Commit, exp.Export,
)


def relation_map(catalog: Catalog) -> dict[tuple[str, ...], str]:
    """(source, name, table) / (ref, model) -> "schema"."identifier" for render_static."""
    out: dict[tuple[str, ...], str] = {}
    for t in catalog.tables:
        key = ("source", t.source_name or "", t.name) if t.kind == "source" else ("ref", t.name)
        out[key] = f'"{t.schema}"."{t.identifier}"'
    return out


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if isinstance(node, exp.Func) else ""


def parse_single_select(sql: str) -> tuple[exp.Expression | None, list[Finding]]:
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=DIALECT) if s is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        return None, [Finding("safety", f"SQL does not parse: {err.get('description', exc)}", err.get("line"))]
    if len(statements) != 1:
        return None, [Finding("safety", f"expected exactly one SELECT statement, found {len(statements)} statements")]
    stmt = statements[0]
    if not isinstance(stmt, exp.Query):
        return None, [Finding("safety", f"expected a SELECT, found {stmt.key.upper()}")]
    return stmt, []


def check_safety(sql: str) -> list[Finding]:
    """One SELECT; no DDL/DML/commands; no file, network or environment functions."""
    stmt, findings = parse_single_select(sql)
    if stmt is None:
        return findings
    for node in stmt.walk():
        if isinstance(node, FORBIDDEN_NODES):
            findings.append(Finding("safety", f"{node.key.upper()} is not allowed in a model"))
        elif isinstance(node, (exp.Func, exp.Anonymous)):
            name = _function_name(node)
            if name and FORBIDDEN_FUNCTION.match(name):
                findings.append(Finding("safety", f"function {name}() reads files, the network or the environment"))
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            findings.append(Finding("safety", f"table function {node.this.sql(DIALECT)} is not allowed; use ref() or source()"))
        elif isinstance(node, exp.Table) and node.this.args.get("quoted") and re.search(r"[./\\:]", node.name):
            findings.append(Finding("safety", f"reading the file or URL {node.name!r} is not allowed; use ref() or source()"))
    return findings


def check_columns(sql: str, catalog: Catalog) -> list[Finding]:
    """Every table is a CTE or a catalog relation; every column qualifies against the catalog."""
    stmt, findings = parse_single_select(sql)
    if stmt is None:
        return findings
    cte_names = {cte.alias_or_name.lower() for cte in stmt.find_all(exp.CTE)}
    known = {(t.schema.lower(), t.identifier.lower()) for t in catalog.tables}
    for table in stmt.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        name, db = table.name.lower(), (table.db or "").lower()
        if not db and name in cte_names:
            continue
        if (db, name) not in known:
            findings.append(Finding("columns", f"unknown table {table.sql(DIALECT)}: use ref() or source() of a built node"))
    if findings:
        return findings
    from sqlglot.optimizer.qualify import qualify

    try:
        qualify(stmt.copy(), schema=catalog.schema_for_sqlglot(), dialect=DIALECT, validate_qualify_columns=True)
    except OptimizeError as exc:
        findings.append(Finding("columns", str(exc)))
    except Exception as exc:  # sqlglot may reject exotic types; report, don't crash
        findings.append(Finding("columns", f"could not qualify columns: {exc}"))
    return findings


def _table_for(catalog: Catalog, spec: ModelSpec, alias: str) -> Table | None:
    inp = next(i for i in spec.inputs if i.alias == alias)
    label = f"source:{inp.source_name}.{inp.table}" if inp.kind == "source" else inp.table
    return catalog.table(label)


def check_spec(spec: ModelSpec, catalog: Catalog) -> list[Finding]:
    """Inputs exist, referenced columns exist in their inputs, aggregates fit the column types."""
    findings: list[Finding] = []
    tables: dict[str, Table] = {}
    for inp in spec.inputs:
        table = _table_for(catalog, spec, inp.alias)
        if table is None:
            what = f"source('{inp.source_name}', '{inp.table}')" if inp.kind == "source" else f"ref('{inp.table}')"
            have = ", ".join(t.label for t in catalog.tables)
            findings.append(Finding("spec", f"input {inp.alias!r}: {what} is not in the project (have: {have})"))
        else:
            tables[inp.alias] = table

    def need(alias: str, column: str | None, what: str) -> None:
        if column is None or alias not in tables:
            return
        table = tables[alias]
        if table.column(column) is None:
            cols = ", ".join(c.name for c in table.columns)
            findings.append(Finding("spec", f"{what}: column {column!r} does not exist in {table.label} (columns: {cols})"))

    for inp in spec.inputs:
        for c in inp.dedupe_key + ([inp.dedupe_order_by] if inp.dedupe_order_by else []):
            need(inp.alias, c, f"input {inp.alias}")
    for j in spec.joins:
        need(j.left, j.left_column, "join")
        need(j.right, j.right_column, "join")
    for d in spec.dimensions:
        need(d.input, d.column, f"dimension {d.name}")
        if d.time_grain and d.input in tables:
            col = tables[d.input].column(d.column)
            if col is not None and type_family(col.data_type) != "time":
                findings.append(Finding("spec", f"dimension {d.name}: {d.column} is {col.data_type}, not a date or timestamp"))
    for m in spec.measures:
        need(m.input, m.column, f"measure {m.name}")
        if m.agg in ("sum", "avg") and m.input in tables and m.column:
            col = tables[m.input].column(m.column)
            if col is not None and type_family(col.data_type) not in ("number", "boolean"):
                findings.append(Finding("spec", f"measure {m.name}: {m.agg} of {m.column}, which is {col.data_type}, not a number"))
    for f in spec.filters:
        need(f.input, f.column, "filter")
    return findings


def check_sql(sql: str, catalog: Catalog) -> list[Finding]:
    """The rendered model SQL (Jinja) -> safety and column findings."""
    try:
        plain = render_static(sql, relation_map(catalog))
    except JinjaCheckError as exc:
        return [Finding("safety", exc.message)]
    return check_safety(plain) or check_columns(plain, catalog)
