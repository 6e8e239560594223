"""The rows a model returns for given input rows: its compiled SQL, run verbatim in an in-memory
DuckDB that holds only those rows, under the same database/schema/table names as the warehouse.

Columns the fixture does not give are null, as in a dbt unit test. Nothing touches the warehouse.

A model compiled for Spark is Spark's SQL, which DuckDB does not run: `expected_rows_on` runs it on
the warehouse itself, each input relation it reads replaced by a temporary view of the given rows
(as dbt's unit test replaces each ref() and source() with its rows), and drops the views after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from martsmith.context.warehouse import quote, relation_sql
from martsmith.errors import ValidationFailed, WarehouseError
from martsmith.unittests.pick import RowViews

VIEW_PREFIX = "__martsmith_expect_"


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


def expected_rows_on(wh: RowViews, sql: str, tables: list[FixtureTable], dialect: str) -> Expected:
    """Run `sql` (the warehouse's own SQL, `dialect`) on the warehouse, reading exactly the rows
    of `tables`: each input it names becomes a temporary view of the given rows, with every
    column of the input and its type (columns not given are null). Rows come back in a stable
    order, as `expected_rows` gives them."""
    views = {(t.schema.lower(), t.identifier.lower()): f"{VIEW_PREFIX}{n}" for n, t in enumerate(tables)}
    result = f"{VIEW_PREFIX}model"
    try:
        for t in tables:
            like = f"select * from {relation_sql(t.schema, t.identifier)}"
            wh.temp_view(views[t.schema.lower(), t.identifier.lower()], t.rows, like=like)
        body = reading_views(sql.strip().rstrip(";"), views, dialect)
        unread = [
            f"{t.schema}.{t.identifier}"
            for t in tables
            if not re.search(rf"(?<!\w){views[t.schema.lower(), t.identifier.lower()]}(?!\w)", body)
        ]
        if unread:  # the model would read the warehouse's rows of it, not the given ones
            raise ValidationFailed(
                f"unit-test cannot find the input {', '.join(unread)} in the model's compiled SQL, "
                "so it cannot compute the rows the model returns on the picked rows.",
                hint="Read each input with ref() or source() in the model's own SQL.",
            )
        try:
            wh.query_native(f"create or replace temporary view {result} as\n{body}")
            columns = [c for c, _ in wh.temp_columns(result)]
            # Ascending, nulls last, by every column: the order DuckDB's `order by all` gives.
            order = ", ".join(f"{n} nulls last" for n in range(1, len(columns) + 1))
            rows = wh.query_native(f"select * from {result} order by {order}")
        except WarehouseError as exc:
            raise ValidationFailed(f"The model's SQL failed on the picked rows: {exc}") from exc
        return Expected(columns, [dict(zip(columns, r)) for r in rows])
    finally:
        for name in [result, *views.values()]:  # the model's view first: Spark reads it again to drop it
            wh.query(f"drop table if exists temp.{name}")


def reading_views(sql: str, views: dict[tuple[str, str], str], dialect: str) -> str:
    """`sql` with each relation `schema.name` (or `catalog.schema.name`; quoted or not, any case)
    of `views` replaced by the view's name; the rest of the text kept as written.

    >>> reading_views("select o.id from `raw`.`Orders` as o join raw.x on o.a = 'raw.orders' -- raw.orders",
    ...               {("raw", "orders"): "v0"}, "spark")
    "select o.id from v0 as o join raw.x on o.a = 'raw.orders' -- raw.orders"
    """
    from sqlglot.dialects.dialect import Dialect  # only a Spark model's expected rows need it
    from sqlglot.tokens import TokenType

    tokens = Dialect.get_or_raise(dialect).tokenize(sql)

    def name(n: int) -> str | None:
        t = tokens[n] if n < len(tokens) else None
        if t is None or not (t.token_type == TokenType.IDENTIFIER or t.text.replace("_", "a").isalnum()):
            return None
        return t.text.lower()

    def dot(n: int) -> bool:
        return n < len(tokens) and tokens[n].token_type == TokenType.DOT

    out, done, n = [], 0, 0
    while n < len(tokens):
        if n and dot(n - 1):  # inside a longer dotted name
            n += 1
            continue
        for width in (5, 3):
            parts = [name(n + k) for k in range(0, width, 2)]
            if None in parts or not all(dot(n + k) for k in range(1, width, 2)):
                continue
            view = views.get((parts[-2] or "", parts[-1] or ""))
            if view is not None:
                out += [sql[done : tokens[n].start], view]
                done = tokens[n + width - 1].end + 1
                n += width - 1
                break
        n += 1
    return "".join(out) + sql[done:]
