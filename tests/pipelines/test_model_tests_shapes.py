"""The tests a generated model of each analytic shape carries: a pivot's guard on the column it
splits, a listing's grain, and no not_null or sign test a window or ratio breaks on other data."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.warehouse import Warehouse
from martsmith.inference.model_tests import fit_to_shape, listing_key_tests, model_tests, nullable_columns, pivot_guard
from martsmith.spec import ModelSpec, TestSpec
from tests.projects import duckdb_project

ORDERS_SQL = (
    "create schema raw; create table raw.orders as select i as order_id, i % 40 as customer_id, "
    "['placed', 'shipped', 'returned'][1 + i % 3] as status, "
    "timestamp '2024-01-01' + to_days(i) as ordered_at, 10.0 + i % 7 as amount from range(600) t(i)"
)
ORDERS = {"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}
STATUSES = ["placed", "shipped", "returned"]


@pytest.fixture
def shop(tmp_path):
    project = duckdb_project(tmp_path, ORDERS_SQL, schema="main")
    table = Table(
        kind="source",
        name="orders",
        schema="raw",
        identifier="orders",
        source_name="shop",
        columns=[
            Column("order_id", "BIGINT"),
            Column("customer_id", "BIGINT"),
            Column("status", "VARCHAR"),
            Column("ordered_at", "TIMESTAMP"),
            Column("amount", "DECIMAL(4,1)"),
        ],
        primary_key="order_id",
    )
    return project, Catalog(tables=[table])


def spec(**fields) -> ModelSpec:
    base = {
        "name": "m",
        "description": "A shape.",
        "request": "r",
        "planner": "t",
        "inputs": [ORDERS],
        "dimensions": [{"name": "order_month", "input": "orders", "column": "ordered_at", "time_grain": "month"}],
        "measures": [{"name": "order_count", "agg": "count", "input": "orders"}],
        "grain": ["order_month"],
    }
    return ModelSpec.model_validate(base | fields)


def pivot(values=STATUSES, **extra) -> dict:
    return {"pivot": {"input": "orders", "column": "status", "values": values, "measure": "order_count"}, **extra}


def test_a_pivot_carries_a_guard_on_the_column_it_splits(shop):
    project, catalog = shop
    with Warehouse(project) as wh:
        found = model_tests(spec(**pivot()), catalog, wh)
    guard = [t for t in found.tests if t.name == "martsmith.values_in"]
    assert [(g.column, g.arguments) for g in guard] == [
        (None, {"to": "source('shop', 'orders')", "field": "status", "values": STATUSES})
    ]
    assert "a new value would be in none" in guard[0].reason
    assert found.findings == []


def test_a_pivot_of_some_values_on_purpose_gets_no_guard_but_a_finding(shop):
    project, catalog = shop
    with Warehouse(project) as wh:
        found = model_tests(spec(**pivot(["placed", "returned"])), catalog, wh)
    assert "martsmith.values_in" not in {t.name for t in found.tests}
    assert any("has no column for 'shipped'" in f for f in found.findings), found.findings


def test_the_guard_allows_the_values_a_filter_leaves_out():
    flt = [{"input": "orders", "column": "status", "op": "not in", "values": ["cancelled"]}]
    (guard,), findings = pivot_guard(spec(**pivot(), filters=flt), present=[*STATUSES, "cancelled"])
    assert guard.arguments["values"] == [*STATUSES, "cancelled"] and findings == []
    # A filter that keeps only some values: a new value is filtered out by design, no guard.
    only = [{"input": "orders", "column": "status", "op": "in", "values": ["placed", "shipped"]}]
    assert pivot_guard(spec(**pivot(["placed", "shipped"]), filters=only), present=STATUSES) == ([], [])


def test_a_null_pivot_value_is_not_a_guard_value():
    (guard,), _ = pivot_guard(spec(**pivot(["placed", None])), present=None)
    assert guard.arguments["values"] == ["placed"]  # nulls pass the test, as with accepted_values
    TestSpec.model_validate(guard.model_dump())  # the arguments are what the test takes


def test_a_listing_of_the_base_key_has_that_key_as_its_grain(shop):
    project, catalog = shop
    listing = spec(
        kind="listing",
        measures=[],
        grain=[],
        dimensions=[
            {"name": "order_id", "input": "orders", "column": "order_id"},
            {"name": "status", "input": "orders", "column": "status"},
        ],
    )
    assert [(t.name, t.column) for t in listing_key_tests(listing, catalog)] == [
        ("unique", "order_id"),
        ("not_null", "order_id"),
    ]
    with Warehouse(project) as wh:
        found = model_tests(listing, catalog, wh)
    assert {("unique", "order_id"), ("not_null", "order_id")} <= {(t.name, t.column) for t in found.tests}


def test_a_latest_per_key_listing_has_the_dedupe_key_as_its_grain(shop):
    _, catalog = shop
    latest = spec(
        kind="listing",
        measures=[],
        grain=[],
        inputs=[{**ORDERS, "dedupe_key": ["customer_id"], "dedupe_order_by": "ordered_at"}],
        dimensions=[
            {"name": "customer_id", "input": "orders", "column": "customer_id"},
            {"name": "order_id", "input": "orders", "column": "order_id"},
        ],
    )
    assert [t.column for t in listing_key_tests(latest, catalog)] == ["customer_id", "customer_id"]


def test_a_listing_without_its_key_has_no_grain_test(shop):
    _, catalog = shop
    listing = spec(
        kind="listing", measures=[], grain=[], dimensions=[{"name": "status", "input": "orders", "column": "status"}]
    )
    assert listing_key_tests(listing, catalog) == []


def test_windows_and_ratios_that_can_be_null_get_no_not_null():
    shaped = spec(
        measures=[
            {"name": "order_count", "agg": "count", "input": "orders"},
            {
                "name": "returned_amount",
                "agg": "sum",
                "input": "orders",
                "column": "amount",
                "where": [{"input": "orders", "column": "status", "op": "=", "values": ["returned"]}],
            },
        ],
        ratios=[{"name": "amount_per_order", "numerator": "returned_amount", "denominator": "order_count"}],
        windows=[
            {"name": "previous_count", "function": "lag", "column": "order_count", "order_by": "order_month"},
            {"name": "count_change", "function": "change", "column": "order_count", "order_by": "order_month"},
            {"name": "running_count", "function": "running_total", "column": "order_count", "order_by": "order_month"},
        ],
    )
    assert nullable_columns(shaped) == {"returned_amount", "amount_per_order", "previous_count", "count_change"}
    inferred = [
        TestSpec(name="not_null", column="previous_count"),
        TestSpec(name="not_null", column="amount_per_order"),
        TestSpec(name="martsmith.not_negative", column="count_change"),
        TestSpec(
            name="martsmith.unique_combination_of_columns",
            arguments={"combination_of_columns": ["order_month", "previous_count"]},
        ),
        TestSpec(name="not_null", column="running_count"),
        TestSpec(name="martsmith.not_negative", column="order_count"),
    ]
    kept = fit_to_shape(shaped, inferred)
    assert [(t.name, t.column) for t in kept] == [
        ("not_null", "running_count"),
        ("martsmith.not_negative", "order_count"),
    ]


def test_a_pivot_of_an_average_can_be_null_where_a_value_is_missing():
    avg = spec(
        measures=[{"name": "avg_amount", "agg": "avg", "input": "orders", "column": "amount"}],
        pivot={"input": "orders", "column": "status", "values": ["placed"], "measure": "avg_amount"},
    )
    assert nullable_columns(avg) == {"avg_amount_placed"}
    counted = spec(**pivot())
    assert nullable_columns(counted) == set()  # a pivoted count is 0 where a value is missing
