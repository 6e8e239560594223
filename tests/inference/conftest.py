"""Helpers for the inference tests: hand-built profiles and catalog tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from martsmith.context.catalog import Catalog, Column, ForeignKey, Table, type_family
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.profiling.types import ColumnProfile, TableProfile


def col(
    name: str, data_type: str = "INTEGER", *, rows: int, nulls: int = 0, distinct: int | None = None, **kw
) -> ColumnProfile:
    return ColumnProfile(
        name=name,
        data_type=data_type,
        family=type_family(data_type),
        null_count=nulls,
        distinct_count=rows - nulls if distinct is None else distinct,
        **kw,
    )


def table(name: str, columns: list[ColumnProfile], *, source: str | None = "shop", schema: str = "raw") -> Table:
    return Table(
        kind="source" if source else "model",
        name=name,
        schema=schema,
        identifier=name,
        source_name=source,
        columns=[Column(c.name, c.data_type) for c in columns],
    )


def profile(t: Table, rows: int, columns: list[ColumnProfile], keys: list[list[str]] | None = None) -> TableProfile:
    if keys is None:
        keys = [[c.name] for c in columns if c.null_count == 0 and c.distinct_count == rows]
    return TableProfile(label=t.label, relation=t.relation, row_count=rows, columns=columns, key_candidates=keys)


def catalog(*tables: Table, fks: list[ForeignKey] | None = None) -> Catalog:
    return Catalog(tables=list(tables), foreign_keys=fks or [])


@pytest.fixture
def duck(tmp_path: Path):
    """A Warehouse on a fresh DuckDB file in tmp_path."""
    db = tmp_path / "wh.duckdb"
    project = Project(
        root=tmp_path,
        name="t",
        profile_name="t",
        profiles_dir=tmp_path,
        target_name="dev",
        target={"type": "duckdb", "path": str(db)},
    )
    wh = Warehouse(project, must_exist=False)
    yield wh
    wh.close()
