"""Checks that need no warehouse round trip: the spec against the catalog, and the rendered SQL
(after `render_static`) for shape, safety and columns.

>>> [str(f) for f in check_safety("select 1 as x; drop table t")]
['[safety] expected exactly one SELECT statement, found 2 statements']
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError

from martsmith.context.catalog import Catalog
from martsmith.errors import JinjaCheckError
from martsmith.render.jinja_static import relation_map, render_static
from martsmith.validate.expressions import FORBIDDEN_FUNCTION, function_name
from martsmith.validate.findings import Finding
from martsmith.validate.jinja_allowlist import check_sql_jinja

DIALECT = "duckdb"

FORBIDDEN_NODES = (
    exp.Create,
    exp.Drop,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Alter,
    exp.Command,
    exp.Pragma,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Use,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Export,
)


# sqlglot logs what its optimizer cannot traverse (e.g. a PIVOT) as warnings on the terminal;
# the checks report what matters as findings instead.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

PIVOT_HINT = (
    "PIVOT is not supported in a generated model (its columns cannot be checked, and it is "
    "DuckDB-only): write one conditional aggregate per value, e.g. "
    "count(*) filter (where status = 'placed') as placed_count"
)
_CLASS_NAME = re.compile(r"\s*(with type )?'?<class '[\w.]+'>'?")


def readable(message: object) -> str:
    """A check's message without Python internals (class names) that a model or user cannot act on.

    >>> readable("Cannot traverse scope X with type '<class 'sqlglot.expressions.query.Pivot'>'")
    'Cannot traverse scope X'
    """
    return _CLASS_NAME.sub("", str(message)).strip()


def parse_single_select(sql: str) -> tuple[exp.Query | None, list[Finding]]:
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=DIALECT) if s is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        return None, [Finding("safety", f"SQL does not parse: {err.get('description', exc)}", err.get("line"))]
    if len(statements) != 1:
        return None, [Finding("safety", f"expected exactly one SELECT statement, found {len(statements)} statements")]
    stmt = statements[0]
    if isinstance(stmt, exp.Pivot) or any(isinstance(n, exp.Pivot) for n in stmt.walk()):
        return None, [Finding("safety", PIVOT_HINT)]
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
            name = function_name(node)
            if name and FORBIDDEN_FUNCTION.match(name):
                findings.append(Finding("safety", f"function {name}() reads files, the network or the environment"))
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            findings.append(
                Finding("safety", f"table function {node.this.sql(DIALECT)} is not allowed; use ref() or source()")
            )
        elif isinstance(node, exp.Table) and node.this.args.get("quoted") and re.search(r"[./\\:]", node.name):
            findings.append(
                Finding("safety", f"reading the file or URL {node.name!r} is not allowed; use ref() or source()")
            )
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
            findings.append(
                Finding("columns", f"unknown table {table.sql(DIALECT)}: use ref() or source() of a built node")
            )
    if findings:
        return findings
    from sqlglot.optimizer.qualify import qualify

    try:
        qualify(stmt.copy(), schema=catalog.schema_for_sqlglot(), dialect=DIALECT, validate_qualify_columns=True)
    except OptimizeError as exc:
        findings.append(Finding("columns", readable(exc)))
    except Exception as exc:  # sqlglot may reject exotic types; report, don't crash
        findings.append(Finding("columns", f"could not qualify columns: {readable(exc)}"))
    return findings


RELATION_MARKER = "__martsmith_relation_"


def check_relations_through_jinja(sql: str, catalog: Catalog) -> list[Finding]:
    """Every table a model reads is a CTE or comes from ref()/source(): a model that names
    `raw.orders` itself bypasses dbt's lineage (and the catalog's idea of what it reads)."""
    markers = {key: f'"{RELATION_MARKER}{i}"' for i, key in enumerate(relation_map(catalog))}
    try:
        marked = render_static(sql, markers)
    except JinjaCheckError as exc:
        return [Finding("safety", exc.message)]
    stmt, findings = parse_single_select(marked)
    if stmt is None:
        return findings
    cte_names = {cte.alias_or_name.lower() for cte in stmt.find_all(exp.CTE)}
    for table in stmt.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.name.startswith(RELATION_MARKER):
            continue
        if not table.db and table.name.lower() in cte_names:
            continue
        findings.append(
            Finding(
                "safety",
                f"table {table.sql(DIALECT)} is read directly: read it through "
                "{{ source('…', '…') }} or {{ ref('…') }}",
            )
        )
    return findings


def check_sql(sql: str, catalog: Catalog) -> list[Finding]:
    """The rendered model SQL (Jinja) -> Jinja allowlist, safety and column findings."""
    jinja = check_sql_jinja(sql)
    if jinja:
        return jinja
    try:
        plain = render_static(sql, relation_map(catalog))
    except JinjaCheckError as exc:
        return [Finding("safety", exc.message)]
    return check_safety(plain) or check_relations_through_jinja(sql, catalog) or check_columns(plain, catalog)
