"""The warehouse compiles a model's SQL before anything runs it: a query that sqlglot accepts
may still not bind (a function on the wrong type, a cast that cannot be made, an aggregate in
the wrong place). The SQL — rendered with the static checks' stand-ins — is wrapped in
`select * from (...) limit 0`, so the engine binds and plans it and reads no row; its error
becomes a finding with the line it names. A result column without a plain name (an
expression without an alias: DuckDB calls it `count_star()`) is a finding too: dbt would build
it, but no test or document could name the column.

>>> compile_findings_of("Binder Error: No function matches 'sum(VARCHAR)'.\\n\\nLINE 3:     sum(status) as s\\n ^")
[Finding(check='compile', message="Binder Error: No function matches 'sum(VARCHAR)'.", line=3)]
"""

from __future__ import annotations

import re

from martsmith.context.catalog import Catalog
from martsmith.context.warehouse import Warehouse
from martsmith.errors import WarehouseError
from martsmith.render.jinja_static import relation_map, render_static
from martsmith.validate.findings import Finding

MAX_MESSAGE = 600
_LINE = re.compile(r"^LINE (\d+):", re.MULTILINE)
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def compile_findings(sql: str, catalog: Catalog, wh: Warehouse) -> list[Finding]:
    """What the warehouse says about `sql` (a model's dbt SQL) when it compiles it: [] when it binds."""
    plain = render_static(sql, relation_map(catalog))
    try:
        names = wh.result_columns(f"select * from ({plain}\n) as martsmith_compile_check limit 0")
    except WarehouseError as exc:
        return compile_findings_of(str(exc.__cause__ or exc))
    return [
        Finding("compile", f"the result column {name!r} has no plain name: give its expression an alias (... as name)")
        for name in names
        if not _PLAIN.match(name)
    ]


def compile_findings_of(error: str) -> list[Finding]:
    """An engine's error text as one finding: its first paragraph, and the line it points at."""
    head = error.strip().split("\n\n", 1)[0].strip()
    head = " ".join(head.split())
    if len(head) > MAX_MESSAGE:
        head = head[: MAX_MESSAGE - 1] + "…"
    m = _LINE.search(error)
    return [Finding("compile", head, int(m.group(1)) if m else None)]
