"""The row picker and the expected rows, on a small DuckDB built here."""

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

MODEL_SQL = """
with orders as (select * from "raw"."orders"),
customers as (select * from "raw"."customers")
select
    orders.id as order_id,
    customers.country,
    case
        when orders.status = 'completed' then 'done'
        when orders.shipped_at is null then 'pending'
        else 'other'
    end as stage,
    orders.amount
from orders
left join customers on orders.customer_id = customers.id
where orders.amount > 0
"""

ORDERS = [
    # id, customer_id, status, shipped_at, amount, note
    (1, 10, "completed", dt.datetime(2025, 1, 2, 3, 4, 5), Decimal("10.50"), "x"),
    (2, 10, "placed", None, Decimal("5.00"), "x"),
    (3, 99, "shipped", dt.datetime(2025, 1, 3), Decimal("7.25"), "x"),  # no such customer
    (4, 11, "shipped", dt.datetime(2025, 1, 4), Decimal("-1.00"), "x"),  # filtered out
    (5, None, "completed", None, Decimal("3.00"), "x"),
    (6, 11, "completed", None, Decimal("8.00"), "x"),
    (7, 12, "completed", None, Decimal("9.00"), "x"),
]
CUSTOMERS = [(10, "France", "a"), (11, None, "b"), (12, "Chile", "c"), (13, "Peru", "d")]


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    con.execute(
        "create table raw.orders (id integer, customer_id integer, status varchar, "
        "shipped_at timestamp, amount decimal(12,2), note varchar)"
    )
    con.executemany("insert into raw.orders values (?, ?, ?, ?, ?, ?)", ORDERS)
    con.execute("create table raw.customers (id integer, country varchar, email varchar)")
    con.executemany("insert into raw.customers values (?, ?, ?)", CUSTOMERS)
    yield con
    con.close()


def _pick(con, max_rows=5):
    shape = model_shape(MODEL_SQL, raw_schema(con))
    inputs = [PickInput(k, f'"raw"."{k[1]}"', shape.used[k], ["id"]) for k in shape.used]
    return shape, pick_rows(DuckQueries(con), inputs, shape, max_rows=max_rows)


def test_shape_finds_used_columns_join_case_and_where(con):
    shape = model_shape(MODEL_SQL, raw_schema(con))
    assert shape.used == {
        ("raw", "orders"): ["id", "customer_id", "status", "shipped_at", "amount"],
        ("raw", "customers"): ["id", "country"],
    }
    [join] = shape.joins
    assert (join.side, join.left, join.right) == ("left", ("raw", "orders"), ("raw", "customers"))
    reasons = [c.reason for c in shape.conditions]
    assert reasons == [
        "stage: WHEN orders.status = 'completed'",
        "stage: WHEN orders.shipped_at IS NULL",
        "stage: ELSE",
        "WHERE orders.amount > 0: passes",
        "WHERE orders.amount > 0: filtered out",
    ]


def test_picked_rows_cover_joins_case_branches_filters_and_nulls(con):
    _, picked = _pick(con)
    orders = picked.rows[("raw", "orders")]
    customers = picked.rows[("raw", "customers")]
    assert len(orders) <= 5 and len(customers) <= 5
    customer_ids = {c["id"] for c in customers}
    # join: a key with a match (its customer is given too) and a key with none in the data
    assert any(o["customer_id"] in customer_ids for o in orders)
    assert any(o["customer_id"] == 99 for o in orders)
    # every CASE branch
    assert any(o["status"] == "completed" for o in orders)
    assert any(o["status"] != "completed" and o["shipped_at"] is None for o in orders)
    assert any(o["status"] != "completed" and o["shipped_at"] is not None for o in orders)
    # the WHERE filter, passing and failing
    assert any(o["amount"] > 0 for o in orders) and any(o["amount"] <= 0 for o in orders)
    # nulls in used columns: customer_id, shipped_at; country through the join partner
    assert any(o["shipped_at"] is None for o in orders)
    assert any(c["country"] is None for c in customers)
    # only the used columns
    assert set(orders[0]) == {"id", "customer_id", "status", "shipped_at", "amount"}
    assert set(customers[0]) == {"id", "country"}
    # and the report says so
    assert all(c.covered for c in picked.coverage if c.available), [
        c for c in picked.coverage if c.available and not c.covered
    ]
    assert not any(c.available for c in picked.coverage if c.reason == "id is null")


def test_picking_is_deterministic_and_leaves_no_temp_tables(con):
    _, first = _pick(con)
    _, second = _pick(con)
    assert first.rows == second.rows
    assert [r["id"] for r in first.rows[("raw", "orders")]] == sorted(r["id"] for r in first.rows[("raw", "orders")])
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchall() == [(0,)]


def test_rows_cap_is_respected(con):
    _, picked = _pick(con, max_rows=2)
    assert all(len(rows) <= 2 for rows in picked.rows.values())
    assert any(c.available and not c.covered for c in picked.coverage)


def test_expected_rows_run_the_model_on_exactly_the_given_rows(con):
    schema = raw_schema(con)
    tables = [
        FixtureTable(
            "raw",
            "orders",
            list(schema[("raw", "orders")].items()),
            [
                {"id": 1, "customer_id": 10, "status": "completed", "shipped_at": None, "amount": Decimal("2.50")},
                {"id": 2, "customer_id": 77, "status": "placed", "shipped_at": None, "amount": Decimal("1")},
                {
                    "id": 3,
                    "customer_id": 10,
                    "status": "placed",
                    "shipped_at": dt.datetime(2025, 1, 1),
                    "amount": Decimal("0"),
                },
            ],
        ),
        FixtureTable("raw", "customers", list(schema[("raw", "customers")].items()), [{"id": 10, "country": "France"}]),
    ]
    result = expected_rows(MODEL_SQL, tables)
    assert result.columns == ["order_id", "country", "stage", "amount"]
    assert result.rows == [
        {"order_id": 1, "country": "France", "stage": "done", "amount": Decimal("2.50")},
        {"order_id": 2, "country": None, "stage": "pending", "amount": Decimal("1.00")},
    ]


def test_expected_rows_with_a_catalog_name_like_compiled_dbt_sql(con):
    sql = 'select count(*) as n from "shop"."raw"."customers" where country is not null'
    t = FixtureTable(
        "raw",
        "customers",
        [("id", "INTEGER"), ("country", "VARCHAR")],
        [{"id": 1, "country": "x"}, {"id": 2}],
        database="shop",
    )
    assert expected_rows(sql, [t]).rows == [{"n": 1}]


AGGREGATE_SQL = """
with orders as (select * from "raw"."orders")
select orders.status, count(*) as n, sum(orders.amount) as amount
from orders
group by 1
"""


def test_an_aggregate_that_does_not_select_the_key_still_gets_rows(con):
    """The picker orders by the input's key, which an aggregate model need not use: the rows it
    stages hold only the columns the model uses (a traceback before: `_src` has no column `id`)."""
    shape = model_shape(AGGREGATE_SQL, raw_schema(con))
    (key,) = shape.used
    assert "id" not in shape.used[key]
    picked = pick_rows(DuckQueries(con), [PickInput(key, '"raw"."orders"', shape.used[key], ["id"])], shape)
    rows = picked.rows[key]
    assert rows and all(set(r) == set(shape.used[key]) for r in rows)
    assert (
        rows
        == pick_rows(DuckQueries(con), [PickInput(key, '"raw"."orders"', shape.used[key], ["id"])], shape).rows[key]
    )
