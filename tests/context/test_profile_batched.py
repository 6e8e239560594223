"""The catalog's profile as one UNION ALL per step (what Spark runs, where each query is a job)
gives the catalog the per-table queries give, in two queries; when the union fails, the tables
are profiled one by one."""

from __future__ import annotations

import dataclasses

import pytest

from martsmith.context.catalog import build_catalog
from martsmith.context.load import load_manifest
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import WarehouseError

pytestmark = pytest.mark.integration


class _Counting:
    """Wraps a Warehouse: counts the profile's queries, and can refuse the UNION ALL ones."""

    def __init__(self, wh: Warehouse, *, batch: bool, refuse_unions: bool = False) -> None:
        self._wh, self.batch_queries, self.refuse_unions = wh, batch, refuse_unions
        self.queries: list[str] = []

    def query(self, sql: str, params=None):
        self.queries.append(sql)
        if self.refuse_unions and " union all " in sql:
            raise WarehouseError("Query failed: an aggregate this engine refuses")
        return self._wh.query(sql, params)

    def __getattr__(self, name: str):
        return getattr(self._wh, name)


def _catalog(root, **options):
    project = load_project(root)
    manifest = load_manifest(project, lambda _: None)
    with Warehouse(project) as raw:
        wh = _Counting(raw, **options)
        catalog = build_catalog(manifest, wh)  # type: ignore[arg-type]
    return dataclasses.asdict(catalog), [q for q in wh.queries if "approx_count_distinct" in q or "list(" in q]


def test_the_batched_profile_is_the_per_table_profile_in_two_queries(sample_project):
    one_by_one, per_table = _catalog(sample_project, batch=False)
    batched, unions = _catalog(sample_project, batch=True)
    assert batched == one_by_one
    tables = len(one_by_one["tables"])
    assert tables > 2 and len(per_table) > tables  # a statistics query per table, and values
    assert len(unions) == 2 and all(" union all " in q for q in unions)
    values = {c["name"]: c["values"] for t in batched["tables"] for c in t["columns"] if c["values"]}
    assert values and all(v == sorted(v) for v in values.values())


def test_a_union_the_engine_refuses_falls_back_to_one_query_per_table(sample_project):
    one_by_one, _ = _catalog(sample_project, batch=False)
    fallen_back, queries = _catalog(sample_project, batch=True, refuse_unions=True)
    assert fallen_back == one_by_one
    assert sum(" union all " in q for q in queries) == 2  # each step tried once as a union
