"""Snapshots that tests compare before and after a run: the project tree and the warehouse.

`tree(root)`: every file's bytes (and every folder) of the project, without dbt's artifacts
(`target/`, `logs/`, `dbt_packages/`) and the DuckDB file; `relations(root)`: (schema, name,
type) of every relation in the project's DuckDB file; `warehouse(root)`: every relation's row
count and an order-independent checksum of its rows, so that a change of contents shows too.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

IGNORED = {"target", "logs", "dbt_packages"}


def tree(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in IGNORED or p.name.endswith((".duckdb", ".duckdb.wal")):
            continue
        out[str(rel) + ("/" if p.is_dir() else "")] = b"" if p.is_dir() else p.read_bytes()
    return out


def _connect(root: Path) -> duckdb.DuckDBPyConnection:
    (db,) = list(root.glob("*.duckdb"))
    return duckdb.connect(str(db))


def relations(root: Path) -> set[tuple[str, str, str]]:
    con = _connect(root)
    try:
        rows = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    finally:
        con.close()
    return set(rows)


def warehouse(root: Path) -> dict[tuple[str, str], tuple]:
    """(schema, relation) -> (row count, checksum of every row)."""
    con = _connect(root)
    try:
        rels = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        return {
            (schema, name): tuple(
                con.execute(
                    f'select count(*), coalesce(sum(hash(t)::hugeint), 0) from "{schema}"."{name}" as t'
                ).fetchall()[0]
            )
            for schema, name in rels
        }
    finally:
        con.close()
