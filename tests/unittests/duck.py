"""Helpers shared by the unit-test generator's tests."""

from __future__ import annotations


def raw_schema(con, tables=("orders", "customers")) -> dict:
    """{("raw", table): {column: type}} of tables in schema raw, as model_shape wants it."""
    return {
        ("raw", t): {name: dtype for name, dtype, *_ in con.execute(f"describe raw.{t}").fetchall()} for t in tables
    }
