"""The rows a model returns for given input rows: its compiled SQL, run verbatim in an in-memory
DuckDB that holds only those rows, under the same database/schema/table names as the warehouse.

Columns the fixture does not give are null, as in a dbt unit test. Nothing touches the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from martsmith.context.warehouse import quote
from martsmith.errors import ValidationFailed


@dataclass
class FixtureTable:
    """One input relation of the model, with every column (name, type) and the given rows."""

    schema: str
    identifier: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    database: str | None = None


@dataclass
class Expected:
    columns: list[str]
    rows: list[dict[str, Any]]


def expected_rows(sql: str, tables: list[FixtureTable]) -> Expected:
    """Run `sql` on exactly the rows of `tables`; rows come back in a stable order.

    >>> t = FixtureTable("raw", "orders", [("id", "INTEGER"), ("status", "VARCHAR")],
    ...                  [{"id": 2, "status": "x"}, {"id": 1}])
    >>> expected_rows('select id, status is null as open from "raw"."orders"', [t]).rows
    [{'id': 1, 'open': True}, {'id': 2, 'open': False}]
    """
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        attached: set[str] = set()
        for t in tables:
            prefix = ""
            if t.database and t.database.lower() != "memory":
                if t.database.lower() not in attached:
                    con.execute(f"attach ':memory:' as {quote(t.database)}")
                    attached.add(t.database.lower())
                prefix = quote(t.database) + "."
            con.execute(f"create schema if not exists {prefix}{quote(t.schema)}")
            name = f"{prefix}{quote(t.schema)}.{quote(t.identifier)}"
            cols = ", ".join(f"{quote(c)} {dtype}" for c, dtype in t.columns)
            con.execute(f"create table {name} ({cols})")
            given = sorted({c for r in t.rows for c in r}, key=[c for c, _ in t.columns].index)
            if t.rows and given:
                marks = ", ".join("?" for _ in given)
                con.executemany(
                    f"insert into {name} ({', '.join(quote(c) for c in given)}) values ({marks})",
                    [[r.get(c) for c in given] for r in t.rows],
                )
        body = sql.strip().rstrip(";")
        try:
            cur = con.execute(f"select * from (\n{body}\n) as _model order by all")
        except duckdb.Error as exc:
            raise ValidationFailed(f"The model's SQL failed on the picked rows: {exc}") from exc
        columns = [d[0] for d in cur.description]
        return Expected(columns, [dict(zip(columns, r)) for r in cur.fetchall()])
    finally:
        con.close()
