"""The tests a generated model carries: key tests, and tests inferred from a preview of its data."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.warehouse import Warehouse
from martsmith.inference.model_tests import PREVIEW, key_tests, model_tests
from martsmith.spec import DimensionSpec, InputSpec, MeasureSpec, ModelSpec
from tests.projects import duckdb_project


@pytest.fixture
def shop(tmp_path):
    # 2,000 sales over 200 stores; store 7 has only refunds, so its total is negative.
    sales = (
        "create schema raw; create table raw.sales as select i as id, i % 200 as store_id, "
        "case when i % 200 = 7 then -5.0 else 10.0 end as amount from range(2000) t(i)"
    )
    project = duckdb_project(tmp_path, sales, schema="main")
    table = Table(
        kind="source",
        name="sales",
        schema="raw",
        identifier="sales",
        source_name="s",
        columns=[Column("id", "BIGINT"), Column("store_id", "BIGINT"), Column("amount", "DECIMAL(4,1)")],
    )
    return project, Catalog(tables=[table])


def spec(**kw) -> ModelSpec:
    base = dict(
        name="sales_by_store",
        description="One row per store.",
        request="r",
        planner="t",
        inputs=[InputSpec(alias="sales", kind="source", source_name="s", table="sales")],
        dimensions=[DimensionSpec(name="store_id", input="sales", column="store_id")],
        measures=[
            MeasureSpec(name="sale_count", agg="count", input="sales"),
            MeasureSpec(name="total_amount", agg="sum", input="sales", column="amount"),
        ],
        surrogate_key="sales_by_store_key",
        grain=["store_id"],
    )
    base.update(kw)
    return ModelSpec(**base)


def test_key_tests_on_surrogate_key():
    assert [(t.name, t.column) for t in key_tests(spec())] == [
        ("unique", "sales_by_store_key"),
        ("not_null", "sales_by_store_key"),
    ]


def test_inferred_tests_and_findings_from_the_preview(shop):
    project, catalog = shop
    with Warehouse(project) as wh:
        found = model_tests(spec(), catalog, wh)
        tests, findings = found.tests, found.findings
        # The preview is gone afterwards.
        assert not wh.query("select 1 from information_schema.tables where table_name = ?", [PREVIEW])
    names = {(t.name, t.column) for t in tests}
    assert ("unique", "sales_by_store_key") in names and ("not_null", "sales_by_store_key") in names
    assert ("martsmith.not_negative", "sale_count") in names
    # The data has one store with a negative total: not written as a test, reported instead.
    assert ("martsmith.not_negative", "total_amount") not in names
    assert any("negative" in f and "total_amount" in f for f in findings), findings
    assert [name for name, _ in found.columns] == ["sales_by_store_key", "store_id", "sale_count", "total_amount"]


def test_empty_preview_gets_a_warning_only(shop):
    project, catalog = shop
    from martsmith.spec import FilterSpec

    empty = spec(filters=[FilterSpec(input="sales", column="store_id", op=">", values=[1000])])
    with Warehouse(project) as wh:
        found = model_tests(empty, catalog, wh)
        tests, findings = found.tests, found.findings
    assert ("martsmith.not_empty", "warn") in {(t.name, t.severity) for t in tests}
    assert any("empty" in f for f in findings)
