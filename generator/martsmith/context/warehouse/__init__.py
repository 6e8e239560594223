"""A small query interface to the target warehouse, one module per engine behind it (`base.py`).

`Warehouse(project)` returns the engine of the profile target's adapter type.
"""

from __future__ import annotations

# Each engine registers itself with the interface when its module loads; the drivers (duckdb,
# psycopg2, pyspark) are imported only when a connection is opened.
from martsmith.context.warehouse import duckdb as _duckdb  # noqa: F401
from martsmith.context.warehouse import postgres as _postgres  # noqa: F401
from martsmith.context.warehouse import spark as _spark  # noqa: F401
from martsmith.context.warehouse.base import (
    SUPPORTED,
    Warehouse,
    check_supported,
    open_warehouse,
    quote,
    relation_sql,
)

__all__ = ["SUPPORTED", "Warehouse", "check_supported", "open_warehouse", "quote", "relation_sql"]
