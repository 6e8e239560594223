"""The shape `martsmith model` generates: QUALIFY-dedupe import CTEs named like their tables, a
left join, GROUP BY with date_trunc, an md5 key. Regression: the join was not traced through the
QUALIFY CTEs, so the picker gave no orders and the unit test expected no rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from unittests.duck import DuckQueries, raw_schema

from martsmith.unittests import (
    FixtureTable,
    PickInput,
    expected_rows,
    model_shape,
    pick_rows,
)

# As dbt compiles a `martsmith model` mart (martsmith.surrogate_key inlined).
MODEL_SQL = """
with

orders as (
    select * from "raw"."orders"
    qualify row_number() over (partition by id order by updated_at desc) = 1
),

customers as (
    select * from "raw"."customers"
    qualify row_number() over (partition by id order by updated_at desc) = 1
),

aggregated as (
    select
        customers.country as customer_country,
        cast(date_trunc('month', orders.ordered_at) as date) as order_month,
        sum(orders.amount) as total_revenue
    from orders
    left join customers
        on orders.customer_id = customers.id
    group by 1, 2
),

final as (
    select
        md5(cast(coalesce(cast(customer_country as TEXT), '_martsmith_null_') || '-'
            || coalesce(cast(order_month as TEXT), '_martsmith_null_') as TEXT)) as revenue_key,
        customer_country,
        order_month,
        total_revenue
    from aggregated
)

select * from final
"""

T = dt.datetime
ORDERS = [
    # id, customer_id, status, ordered_at, amount, updated_at: order 1 has two versions
    (1, 10, "placed", T(2025, 1, 5), Decimal("10.00"), T(2025, 1, 5)),
    (1, 10, "completed", T(2025, 1, 5), Decimal("12.00"), T(2025, 1, 7)),
    (2, 11, "completed", T(2025, 2, 1), Decimal("5.00"), T(2025, 2, 1)),
    (3, 99, "completed", T(2025, 2, 3), Decimal("7.00"), T(2025, 2, 3)),  # no such customer
    (4, 10, "completed", T(2025, 3, 9), Decimal("1.50"), T(2025, 3, 9)),
]
CUSTOMERS = [
    # id, country, email, updated_at: customer 10 moved
    (10, "Peru", "a@x", T(2024, 1, 1)),
    (10, "France", "a@x", T(2024, 6, 1)),
    (11, None, "b@x", T(2024, 1, 1)),
    (12, "Chile", "c@x", T(2024, 1, 1)),
]


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    con.execute(
        "create table raw.orders (id integer, customer_id integer, status varchar, ordered_at timestamp, "
        "amount decimal(12,2), updated_at timestamp)"
    )
    con.executemany("insert into raw.orders values (?, ?, ?, ?, ?, ?)", ORDERS)
    con.execute("create table raw.customers (id integer, country varchar, email varchar, updated_at timestamp)")
    con.executemany("insert into raw.customers values (?, ?, ?, ?)", CUSTOMERS)
    yield con
    con.close()


def _pick(con, max_rows=5):
    shape = model_shape(MODEL_SQL, raw_schema(con))
    inputs = [PickInput(k, f'"raw"."{k[1]}"', shape.used[k]) for k in sorted(shape.used)]
    return shape, pick_rows(DuckQueries(con), inputs, shape, max_rows=max_rows)


def _expected(con, picked):
    schema = raw_schema(con)
    tables = [
        FixtureTable("raw", t, list(schema[("raw", t)].items()), picked.rows[("raw", t)])
        for t in ("orders", "customers")
    ]
    return expected_rows(MODEL_SQL, tables)


def test_shape_traces_the_join_through_qualify_ctes_and_keeps_window_columns(con):
    shape = model_shape(MODEL_SQL, raw_schema(con))
    [join] = shape.joins
    assert (join.side, join.left, join.right) == ("left", ("raw", "orders"), ("raw", "customers"))
    assert join.text == "orders.customer_id = customers.id"
    # partition by id / order by updated_at are used: null there would break the dedupe
    assert shape.used == {
        ("raw", "orders"): ["id", "customer_id", "ordered_at", "amount", "updated_at"],
        ("raw", "customers"): ["id", "country", "updated_at"],
    }


def test_picked_rows_cover_the_join_and_give_expected_rows(con):
    _, picked = _pick(con)
    orders, customers = picked.rows[("raw", "orders")], picked.rows[("raw", "customers")]
    assert orders and customers
    customer_ids = {c["id"] for c in customers}
    assert any(o["customer_id"] in customer_ids for o in orders)  # a match
    assert any(o["customer_id"] == 99 for o in orders)  # and a key without one
    for row in orders + customers:
        assert row["id"] is not None and row["updated_at"] is not None
    reasons = {c.reason: c.covered for c in picked.coverage if c.available}
    assert all(reasons.values()), reasons
    assert any("a key with a match" in r for r in reasons) and any("a key without a match" in r for r in reasons)

    expected = _expected(con, picked)
    assert expected.columns == ["revenue_key", "customer_country", "order_month", "total_revenue"]
    assert expected.rows
    assert any(r["customer_country"] is not None for r in expected.rows)  # the match reached the output
    assert any(r["customer_country"] is None for r in expected.rows)  # and so did the non-match
    assert all(isinstance(r["order_month"], dt.date) and r["order_month"].day == 1 for r in expected.rows)


def test_one_row_per_input_still_reaches_the_output(con):
    _, picked = _pick(con, max_rows=1)
    assert [len(picked.rows[k]) for k in (("raw", "orders"), ("raw", "customers"))] == [1, 1]
    [row] = _expected(con, picked).rows
    assert row["customer_country"] is not None


def test_picking_twice_gives_the_same_rows_and_expected_rows(con):
    _, first = _pick(con)
    _, second = _pick(con)
    assert first.rows == second.rows
    assert _expected(con, first) == _expected(con, second)


def test_a_join_on_a_group_key_is_traced_and_count_star_reads_no_column(con):
    sql = """
    with per_customer as (select customer_id, count(*) as n from raw.orders group by 1)
    select customers.country, per_customer.n
    from per_customer join raw.customers as customers on per_customer.customer_id = customers.id
    """
    shape = model_shape(sql, raw_schema(con))
    [join] = shape.joins
    assert (join.left, join.right) == (("raw", "orders"), ("raw", "customers"))
    assert shape.used[("raw", "orders")] == ["customer_id"]


def test_a_window_column_is_not_traced_as_a_row_value(con):
    sql = """
    with ranked as (
        select customer_id, row_number() over (partition by customer_id order by ordered_at) as n
        from raw.orders
    )
    select * from ranked where n = 1 and customer_id > 10
    """
    shape = model_shape(sql, raw_schema(con))
    assert [c.reason for c in shape.conditions] == [
        "WHERE ranked.customer_id > 10: passes",
        "WHERE ranked.customer_id > 10: filtered out",
    ]
    assert shape.used[("raw", "orders")] == ["customer_id", "ordered_at"]
