"""Helpers shared by the unit-test generator's tests."""

from __future__ import annotations

from typing import Any


def raw_schema(con, tables=("orders", "customers")) -> dict:
    """{("raw", table): {column: type}} of tables in schema raw, as model_shape wants it."""
    return {
        ("raw", t): {name: dtype for name, dtype, *_ in con.execute(f"describe raw.{t}").fetchall()} for t in tables
    }


class DuckQueries:
    """A bare DuckDB connection as the picker's warehouse (`pick.Queries`): the picker's tests run
    on a DuckDB file built in the test, without a dbt project."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()
