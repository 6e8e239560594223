"""Helpers for the pipelines' tests (pipelines/model.py and the run): snapshots of the project tree and of the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

# dbt's own artifacts and the warehouse file are not the project tree.
IGNORED = {"target", "logs", "dbt_packages"}


def tree_snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in IGNORED or p.name.endswith((".duckdb", ".duckdb.wal")):
            continue
        out[str(rel) + ("/" if p.is_dir() else "")] = b"" if p.is_dir() else p.read_bytes()
    return out


def relations(root: Path) -> set[tuple[str, str, str]]:
    """(schema, name, type) of every relation in the project's DuckDB file."""
    import duckdb

    (db,) = list(root.glob("*.duckdb"))
    con = duckdb.connect(str(db))
    try:
        rows = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    finally:
        con.close()
    return set(rows)


@pytest.fixture
def snapshot():
    def take(root: Path):
        return tree_snapshot(root), relations(root)

    return take
