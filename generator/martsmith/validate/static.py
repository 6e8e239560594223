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

from martsmith.context.catalog import Catalog
from martsmith.render.jinja_static import JinjaCheckError, relation_map, render_static
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


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if isinstance(node, exp.Func) else ""


def parse_single_select(sql: str) -> tuple[exp.Query | None, list[Finding]]:
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


def check_sql(sql: str, catalog: Catalog) -> list[Finding]:
    """The rendered model SQL (Jinja) -> safety and column findings."""
    try:
        plain = render_static(sql, relation_map(catalog))
    except JinjaCheckError as exc:
        return [Finding("safety", exc.message)]
    return check_safety(plain) or check_columns(plain, catalog)
