"""Every analytic shape, run: a spec is rendered, its Jinja made plain (render_static), executed on
a small DuckDB shop, and its rows compared — as multisets — with a query written independently
(filter clauses, correlated subqueries, anti-joins, a pivot done in Python). The data holds the
edge cases each shape has to get right: ties, a first row with no previous one, a month with no
row of some status, a null key, a denominator of zero.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import duckdb
import pytest

from martsmith.render.jinja_static import render_static
from martsmith.render.sql import render_sql
from martsmith.spec import ModelSpec

SHOP = """
create schema raw;
create table raw.customers (customer_id integer, email varchar, country varchar, updated_at date);
insert into raw.customers values
    (1, 'ada@old.example', 'DE', '2024-01-01'),
    (1, 'ada@new.example', 'DE', '2024-03-01'),   -- a later version of customer 1
    (2, 'bo@example', 'DE', '2024-01-01'),
    (3, 'cy@example', 'FR', '2024-01-01'),
    (4, 'di@example', 'US', '2024-01-01'),        -- no orders
    (5, 'ed@example', 'FR', '2024-01-01'),        -- only a cancelled order
    (null, 'ghost@example', 'US', '2024-01-01');  -- no key

create table raw.orders (
    order_id integer, customer_id integer, status varchar, ordered_at timestamp, amount decimal(10, 2)
);
insert into raw.orders values
    (1, 1, 'completed', '2024-01-05 10:00', 100),
    (2, 1, 'returned', '2024-01-20 10:00', 50),
    (3, 2, 'completed', '2024-02-03 10:00', 0),     -- February's revenue is 0
    (4, 2, 'returned', '2024-03-10 10:00', 30),
    (5, 3, 'completed', '2024-03-15 10:00', 70),
    (6, 5, 'cancelled', '2024-03-20 10:00', 20),
    (7, null, 'completed', '2024-04-01 10:00', 40), -- no customer
    (8, 3, 'shipped', '2024-04-11 10:00', 25),
    (9, 1, 'returned', '2024-04-12 10:00', 10),
    (10, 2, 'returned', '2024-05-02 10:00', 15);    -- May: nothing completed

create table raw.products (product_id integer, name varchar, category varchar, is_active boolean);
insert into raw.products values
    (1, 'Mug', 'kitchen', true), (2, 'Pan', 'kitchen', true), (3, 'Pot', 'kitchen', true),
    (4, 'Lamp', 'home', true), (5, 'Rug', 'home', true), (6, 'Vase', 'home', true),
    (7, 'Bowl', 'kitchen', false);

create table raw.order_items (
    order_item_id integer, order_id integer, product_id integer, quantity integer, unit_price decimal(10, 2)
);
insert into raw.order_items values
    (1, 1, 1, 2, 10.00), (2, 1, 2, 2, 25.00), (3, 2, 3, 1, 50.00), (4, 3, 1, 1, 10.00),
    (5, 4, 2, 1, 25.00),                        -- Mug and Pan tie on 3 units
    (6, 5, 4, 4, 5.00), (7, 8, 5, 4, 12.50),    -- Lamp and Rug tie on 4 units
    (8, 9, 6, 0, 30.00);                        -- Vase: a line, but nothing sold
"""

RELATIONS = {("source", "shop", t): f'"raw"."{t}"' for t in ("customers", "orders", "products", "order_items")}


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute(SHOP)
    yield connection
    connection.close()


def src(alias: str, table: str | None = None, **extra) -> dict:
    return {"alias": alias, "kind": "source", "source_name": "shop", "table": table or alias, **extra}


def dim(name: str, input: str, column: str | None = None, **extra) -> dict:
    return {"name": name, "input": input, "column": column or name, **extra}


def spec_of(**fields) -> ModelSpec:
    return ModelSpec.model_validate({"description": "A shape.", "request": "x", "planner": "test", **fields})


def _plain(value):
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    return value


def rows(con, sql: str) -> list[tuple]:
    return [tuple(_plain(v) for v in row) for row in con.execute(sql).fetchall()]


def run(con, spec: ModelSpec) -> list[tuple]:
    """The spec's model, rendered and run: its rows, and its columns in the order written."""
    sql = render_static(render_sql(spec), RELATIONS)
    result = con.execute(sql)
    assert [d[0] for d in result.description] == spec.output_columns
    return [tuple(_plain(v) for v in row) for row in result.fetchall()]


def same_rows(got: list[tuple], expected: list[tuple]) -> None:
    assert Counter(got) == Counter(expected), (sorted(got, key=repr), sorted(expected, key=repr))
    assert expected, "the independent query returned nothing: the case proves nothing"


# -- listings ---------------------------------------------------------------------------------


def test_listing_ordered_and_limited(con):
    spec = spec_of(
        name="recent_completed_orders",
        kind="listing",
        inputs=[src("orders")],
        dimensions=[dim("order_id", "orders"), dim("ordered_at", "orders"), dim("amount", "orders")],
        filters=[{"input": "orders", "column": "status", "op": "=", "values": ["completed"]}],
        order_by=[{"column": "ordered_at", "direction": "desc"}],
        limit=2,
    )
    got = run(con, spec)
    expected = rows(
        con,
        "select order_id, ordered_at, amount from raw.orders where status = 'completed' "
        "order by ordered_at desc limit 2",
    )
    same_rows(got, expected)
    assert [r[0] for r in got] == [7, 5]  # the final select keeps the order


def test_distinct_listing_drops_duplicate_rows(con):
    spec = spec_of(
        name="countries",
        kind="listing",
        distinct=True,
        inputs=[src("customers")],
        dimensions=[dim("country", "customers")],
    )
    same_rows(run(con, spec), rows(con, "select country from raw.customers group by country"))


def test_plain_listing_keeps_every_row(con):
    spec = spec_of(
        name="countries", kind="listing", inputs=[src("customers")], dimensions=[dim("country", "customers")]
    )
    assert len(run(con, spec)) == 7  # one row per input row, duplicates included


def test_latest_row_per_key(con):
    spec = spec_of(
        name="latest_order_per_customer",
        kind="listing",
        inputs=[src("orders", dedupe_key=["customer_id"], dedupe_order_by="ordered_at")],
        dimensions=[dim("customer_id", "orders"), dim("order_id", "orders"), dim("status", "orders")],
    )
    expected = rows(
        con,
        """
        select o.customer_id, o.order_id, o.status from raw.orders as o
        where o.ordered_at = (
            select max(o2.ordered_at) from raw.orders as o2 where o2.customer_id is not distinct from o.customer_id
        )
        """,
    )
    got = run(con, spec)
    same_rows(got, expected)
    assert (None, 7, "completed") in got  # the rows without a key are one group of their own


# -- aggregates -------------------------------------------------------------------------------


def test_conditional_aggregates_and_ratios(con):
    spec = spec_of(
        name="returns_by_month",
        inputs=[src("orders")],
        dimensions=[dim("order_month", "orders", "ordered_at", time_grain="month")],
        measures=[
            {"name": "order_count", "agg": "count", "input": "orders"},
            {
                "name": "returned_count",
                "agg": "count",
                "input": "orders",
                "where": [{"input": "orders", "column": "status", "op": "=", "values": ["returned"]}],
            },
            {
                "name": "completed_count",
                "agg": "count",
                "input": "orders",
                "where": [{"input": "orders", "column": "status", "op": "=", "values": ["completed"]}],
            },
            {
                "name": "returned_amount",
                "agg": "sum",
                "input": "orders",
                "column": "amount",
                "where": [{"input": "orders", "column": "status", "op": "in", "values": ["returned"]}],
            },
        ],
        ratios=[
            {"name": "return_pct", "numerator": "returned_count", "denominator": "order_count", "percent": True},
            {"name": "returns_per_completed", "numerator": "returned_count", "denominator": "completed_count"},
        ],
    )
    expected = rows(
        con,
        """
        with m as (
            select
                cast(date_trunc('month', ordered_at) as date) as order_month,
                count(*) as n,
                count(*) filter (where status = 'returned') as r,
                count(*) filter (where status = 'completed') as c,
                sum(amount) filter (where status = 'returned') as ra
            from raw.orders group by all
        )
        select order_month, n, r, c, ra, r * 100.0 / n,
            case when c = 0 then null else r::double / c end
        from m
        """,
    )
    got = run(con, spec)
    same_rows(got, expected)
    may = next(r for r in got if str(r[0]) == "2024-05-01")
    assert may[3] == 0 and may[6] is None  # nothing completed in May: a count of 0, a ratio of null
    feb = next(r for r in got if str(r[0]) == "2024-02-01")
    assert feb[2] == 0 and feb[4] is None  # no returns: the count is 0, the conditional sum null


def test_expression_measure(con):
    spec = spec_of(
        name="revenue_by_category",
        inputs=[src("order_items"), src("products")],
        joins=[{"left": "order_items", "left_column": "product_id", "right": "products", "right_column": "product_id"}],
        dimensions=[dim("category", "products")],
        measures=[
            {
                "name": "gross_revenue",
                "agg": "sum",
                "input": "order_items",
                "expression": "order_items.quantity * order_items.unit_price",
            }
        ],
    )
    expected = rows(
        con,
        """
        select p.category,
            (select sum(i.quantity * i.unit_price) from raw.order_items as i
             where i.product_id in (select product_id from raw.products where category = p.category))
        from (select distinct category from raw.products) as p
        where exists (select 1 from raw.order_items as i join raw.products as q using (product_id)
                      where q.category = p.category)
        """,
    )
    same_rows(run(con, spec), expected)


def test_having_keeps_the_groups_whose_measures_pass(con):
    spec = spec_of(
        name="repeat_customers",
        inputs=[src("orders")],
        dimensions=[dim("customer_id", "orders")],
        measures=[
            {"name": "order_count", "agg": "count", "input": "orders"},
            {"name": "total_amount", "agg": "sum", "input": "orders", "column": "amount"},
        ],
        having=[
            {"column": "order_count", "op": ">", "values": [1]},
            {"column": "total_amount", "op": ">=", "values": [80]},
        ],
    )
    expected = rows(
        con,
        "select customer_id, count(*), sum(amount) from raw.orders group by customer_id "
        "having count(*) > 1 and sum(amount) >= 80",
    )
    same_rows(run(con, spec), expected)


def test_having_between(con):
    spec = spec_of(
        name="mid_customers",
        inputs=[src("orders")],
        dimensions=[dim("customer_id", "orders")],
        measures=[{"name": "order_count", "agg": "count", "input": "orders"}],
        having=[{"column": "order_count", "op": "between", "values": [2, 3]}],
    )
    expected = rows(con, "select customer_id, count(*) from raw.orders group by 1 having count(*) between 2 and 3")
    same_rows(run(con, spec), expected)


# -- existence --------------------------------------------------------------------------------


def test_exists_with_a_filter_on_the_related_rows(con):
    spec = spec_of(
        name="customers_with_returns",
        kind="listing",
        inputs=[src("customers"), src("orders")],
        dimensions=[dim("customer_id", "customers"), dim("email", "customers")],
        exists=[
            {
                "input": "orders",
                "column": "customer_id",
                "outer": "customers",
                "outer_column": "customer_id",
                "filters": [{"input": "orders", "column": "status", "op": "=", "values": ["returned"]}],
            }
        ],
    )
    expected = rows(
        con,
        "select customer_id, email from raw.customers "
        "where customer_id in (select customer_id from raw.orders where status = 'returned')",
    )
    same_rows(run(con, spec), expected)


def test_not_exists_keeps_rows_with_a_null_key(con):
    # orders has a row with a null customer_id and customers a row with a null id: `not in`
    # would keep nothing; `not exists` keeps every customer without a (non-cancelled) order.
    spec = spec_of(
        name="customers_without_orders",
        kind="listing",
        inputs=[src("customers"), src("orders")],
        dimensions=[dim("customer_id", "customers"), dim("email", "customers")],
        exists=[
            {
                "input": "orders",
                "column": "customer_id",
                "outer": "customers",
                "outer_column": "customer_id",
                "negated": True,
                "filters": [{"input": "orders", "column": "status", "op": "!=", "values": ["cancelled"]}],
            }
        ],
    )
    expected = rows(
        con,
        """
        select c.customer_id, c.email from raw.customers as c
        left join (select distinct customer_id from raw.orders where status <> 'cancelled') as o
            on o.customer_id = c.customer_id
        where o.customer_id is null
        """,
    )
    got = run(con, spec)
    same_rows(got, expected)
    assert {r[0] for r in got} == {4, 5, None}
    not_in = rows(
        con,
        "select customer_id from raw.customers where customer_id not in "
        "(select customer_id from raw.orders where status <> 'cancelled')",
    )
    assert not_in == []  # what a `not in` would have returned


def test_not_exists_with_an_aggregate(con):
    spec = spec_of(
        name="unsold_products_per_category",
        inputs=[src("products"), src("order_items")],
        dimensions=[dim("category", "products")],
        measures=[{"name": "product_count", "agg": "count", "input": "products"}],
        filters=[{"input": "products", "column": "is_active", "op": "=", "values": [True]}],
        exists=[
            {
                "input": "order_items",
                "column": "product_id",
                "outer": "products",
                "outer_column": "product_id",
                "negated": True,
                "filters": [{"input": "order_items", "column": "quantity", "op": ">", "values": [0]}],
            }
        ],
    )
    expected = rows(
        con,
        """
        select category, count(*) from raw.products as p
        where is_active and product_id not in (select product_id from raw.order_items where quantity > 0)
        group by category
        """,
    )
    same_rows(run(con, spec), expected)  # the Vase: a line of 0 units is no sale


# -- windows ----------------------------------------------------------------------------------

MONTHLY = dict(
    inputs=[src("orders")],
    dimensions=[dim("order_month", "orders", "ordered_at", time_grain="month")],
    measures=[{"name": "revenue", "agg": "sum", "input": "orders", "column": "amount"}],
)
# The months and their revenue, then the previous and next month's, by correlated subqueries.
MONTHS = """
with m as (
    select cast(date_trunc('month', ordered_at) as date) as order_month, sum(amount) as revenue
    from raw.orders group by 1
)
select
    m.order_month,
    m.revenue,
    (select sum(p.revenue) from m as p where p.order_month <= m.order_month) as running,
    (select avg(p.revenue) from m as p where p.order_month <= m.order_month
        and p.order_month >= (select coalesce(max(q.order_month), m.order_month) from m as q
                               where q.order_month < m.order_month)) as moving_2,
    (select p.revenue from m as p where p.order_month < m.order_month order by p.order_month desc limit 1) as prev,
    (select p.revenue from m as p where p.order_month > m.order_month order by p.order_month limit 1) as next
from m
"""


def _window(con, function: str, **extra) -> list[tuple]:
    w = {"name": "w", "function": function, "column": "revenue", "order_by": "order_month", **extra}
    got = run(con, spec_of(name="monthly", **MONTHLY, windows=[w]))
    return sorted(got)


def _months(con) -> list[tuple]:
    return sorted(rows(con, MONTHS))


def test_running_total(con):
    assert _window(con, "running_total") == [(m, r, run_) for m, r, run_, *_ in _months(con)]


def test_moving_average(con):
    assert _window(con, "moving_average", periods=2) == [(m, r, avg) for m, r, _, avg, *_ in _months(con)]


def test_lag_is_null_on_the_first_row(con):
    got = _window(con, "lag")
    assert got == [(m, r, prev) for m, r, _, _, prev, _ in _months(con)]
    assert got[0][2] is None


def test_lead_is_null_on_the_last_row(con):
    got = _window(con, "lead")
    assert got == [(m, r, nxt) for m, r, _, _, _, nxt in _months(con)]
    assert got[-1][2] is None


def test_change(con):
    expected = [(m, r, None if prev is None else round(r - prev, 6)) for m, r, _, _, prev, _ in _months(con)]
    assert _window(con, "change") == expected


def test_percent_change_is_null_after_a_zero(con):
    expected = [
        (m, r, None if not prev else round(100.0 * (r - prev) / prev, 6)) for m, r, _, _, prev, _ in _months(con)
    ]
    got = _window(con, "percent_change")
    assert got == expected
    assert got[0][2] is None and got[2][2] is None  # no previous month; February's revenue was 0


def test_lag_over_two_periods(con):
    months = _months(con)
    expected = [(m, r, months[i - 2][1] if i >= 2 else None) for i, (m, r, *_) in enumerate(months)]
    assert _window(con, "lag", periods=2) == expected


RANKED = dict(
    inputs=[src("order_items"), src("products")],
    joins=[{"left": "order_items", "left_column": "product_id", "right": "products", "right_column": "product_id"}],
    dimensions=[dim("category", "products"), dim("product_name", "products", "name")],
    measures=[{"name": "units", "agg": "sum", "input": "order_items", "column": "quantity"}],
)
UNITS = """
select p.category, p.name, sum(i.quantity) as units
from raw.order_items as i join raw.products as p using (product_id)
group by 1, 2
"""


def _ranked(con, function: str) -> list[tuple]:
    w = {"name": "w", "function": function, "partition_by": ["category"], "order_by": "units", "direction": "desc"}
    return run(con, spec_of(name="ranked", **RANKED, windows=[w]))


def test_rank_ties_share_a_rank_and_leave_a_gap(con):
    expected = rows(
        con,
        f"with u as ({UNITS}) select category, name, units, "
        "1 + (select count(*) from u as o where o.category = u.category and o.units > u.units) from u",
    )
    got = _ranked(con, "rank")
    same_rows(got, expected)
    assert sorted(r[3] for r in got if r[0] == "kitchen") == [1, 1, 3]


def test_dense_rank_ties_share_a_rank_without_a_gap(con):
    expected = rows(
        con,
        f"with u as ({UNITS}) select category, name, units, "
        "1 + (select count(distinct o.units) from u as o where o.category = u.category and o.units > u.units) from u",
    )
    got = _ranked(con, "dense_rank")
    same_rows(got, expected)
    assert sorted(r[3] for r in got if r[0] == "home") == [1, 1, 2]


def test_row_number_numbers_each_partition_in_order(con):
    got = _ranked(con, "row_number")
    for category in ("kitchen", "home"):
        part = sorted((r[3], r[2]) for r in got if r[0] == category)
        assert [n for n, _ in part] == list(range(1, len(part) + 1))
        assert [u for _, u in part] == sorted((u for _, u in part), reverse=True)  # ties in any order


def test_share_of_total_within_a_partition(con):
    w = {"name": "share", "function": "share_of_total", "column": "units", "partition_by": ["category"]}
    got = run(con, spec_of(name="shares", **RANKED, windows=[w]))
    expected = rows(
        con,
        f"with u as ({UNITS}), t as (select category, sum(units) as total from u group by 1) "
        "select u.category, u.name, u.units, u.units::double / t.total from u join t using (category)",
    )
    same_rows(got, expected)


def test_share_of_the_whole_table_and_a_zero_total(con):
    w = {"name": "share", "function": "share_of_total", "column": "units"}
    got = run(con, spec_of(name="shares", **RANKED, filters=[_quantity_zero()], windows=[w]))
    assert got == [("home", "Vase", 0, None)]  # 0 of a total of 0: null, not an error


def _quantity_zero() -> dict:
    return {"input": "order_items", "column": "quantity", "op": "=", "values": [0]}


def test_windows_run_after_the_filters_on_measures(con):
    w = {"name": "w", "function": "rank", "order_by": "units", "direction": "desc"}
    spec = spec_of(name="ranked_sellers", **RANKED, having=[{"column": "units", "op": ">", "values": [1]}], windows=[w])
    expected = rows(
        con,
        f"with u as ({UNITS}), kept as (select * from u where units > 1) "
        "select category, name, units, 1 + (select count(*) from kept as o where o.units > kept.units) from kept",
    )
    same_rows(run(con, spec), expected)


# -- pivot ------------------------------------------------------------------------------------

STATUSES = ["placed", "shipped", "completed", "returned", "cancelled"]


def _pivot_expected(con, value_sql: str, values: list) -> list[tuple]:
    """The pivot done in Python over a plain group by: 0 where a month has no row of a value."""
    cells: dict = {}
    for month, status, value in rows(
        con,
        f"select cast(date_trunc('month', ordered_at) as date), status, {value_sql} from raw.orders group by 1, 2",
    ):
        cells.setdefault(month, {})[status] = value
    return [(month, *(by_status.get(v, 0) for v in values)) for month, by_status in cells.items()]


def test_pivot_of_a_count_is_zero_where_a_value_is_missing(con):
    spec = spec_of(
        name="orders_by_status_month",
        inputs=[src("orders")],
        dimensions=[dim("order_month", "orders", "ordered_at", time_grain="month")],
        measures=[{"name": "order_count", "agg": "count", "input": "orders"}],
        pivot={"input": "orders", "column": "status", "values": STATUSES, "measure": "order_count"},
    )
    got = run(con, spec)
    same_rows(got, _pivot_expected(con, "count(*)", STATUSES))
    assert all(r[1] == 0 for r in got)  # no order is 'placed'


def test_pivot_of_a_sum_beside_an_unpivoted_measure(con):
    spec = spec_of(
        name="amount_by_status_month",
        inputs=[src("orders")],
        dimensions=[dim("order_month", "orders", "ordered_at", time_grain="month")],
        measures=[
            {"name": "amount", "agg": "sum", "input": "orders", "column": "amount"},
            {"name": "order_count", "agg": "count", "input": "orders"},
        ],
        pivot={"input": "orders", "column": "status", "values": ["completed", "returned"], "measure": "amount"},
    )
    expected = [
        (*row, n)
        for row in _pivot_expected(con, "sum(amount)", ["completed", "returned"])
        for month, n in rows(
            con, "select cast(date_trunc('month', ordered_at) as date), count(*) from raw.orders group by 1"
        )
        if month == row[0]
    ]
    same_rows(run(con, spec), expected)


def test_pivot_with_a_null_value_and_a_ratio_of_its_columns(con):
    spec = spec_of(
        name="customers_by_country",
        inputs=[src("orders"), src("customers", dedupe_key=["customer_id"], dedupe_order_by="updated_at")],
        joins=[{"left": "orders", "left_column": "customer_id", "right": "customers", "right_column": "customer_id"}],
        dimensions=[dim("status", "orders")],
        measures=[{"name": "order_count", "agg": "count", "input": "orders"}],
        pivot={"input": "customers", "column": "country", "values": ["DE", None], "measure": "order_count"},
        ratios=[{"name": "de_per_unknown", "numerator": "order_count_de", "denominator": "order_count_null"}],
    )
    expected = rows(
        con,
        """
        with c as (select distinct customer_id, country from raw.customers where customer_id is not null)
        select o.status,
            count(*) filter (where c.country = 'DE') as de,
            count(*) filter (where c.country is null) as unknown,
            case when count(*) filter (where c.country is null) = 0 then null
                else (count(*) filter (where c.country = 'DE'))::double / count(*) filter (where c.country is null) end
        from raw.orders as o left join c on c.customer_id = o.customer_id
        group by 1
        """,
    )
    same_rows(run(con, spec), expected)


def test_every_golden_shape_runs_on_duckdb(con):
    """The golden specs read stg_ models: stood in by views over the raw tables, every one runs."""
    from pathlib import Path

    views = {
        "stg_orders": "select * from raw.orders",
        "stg_customers": "select *, 'Berlin' as city from raw.customers",
        "stg_products": "select * from raw.products",
        "stg_order_items": "select * from raw.order_items",
        # the saas models of the mixed-grain case
        "stg_accounts": "select range as account_key, 'account ' || range as account_name from range(3)",
        "stg_invoices": "select range as invoice_key, range % 3 as account_key, 10.0 as invoice_total from range(6)",
        "stg_tickets": "select range as ticket_key, range % 2 as account_key from range(5)",
    }
    for name, body in views.items():
        con.execute(f"create or replace temp view {name} as {body}")
    refs = {("ref", name): name for name in views}
    cases = sorted((Path(__file__).parent / "cases").glob("*.json"))
    ran = []
    for case in cases:
        spec = ModelSpec.model_validate_json(case.read_text())
        if any(i.kind == "source" for i in spec.inputs):
            continue
        con.execute(render_static(render_sql(spec), refs)).fetchall()
        ran.append(case.stem)
    assert len(ran) >= 11, ran


def test_mixed_grain_counts_each_table_once(con):
    """Two facts of one account, aggregated before the join: neither doubles the other."""
    from pathlib import Path

    con.execute(
        "create or replace temp view stg_accounts as select range as account_key, 'a' || range as account_name from range(3)"
    )
    con.execute(
        "create or replace temp view stg_invoices as "
        "select range as invoice_key, range % 3 as account_key, 10.0 as invoice_total from range(6)"
    )
    con.execute(
        "create or replace temp view stg_tickets as select range as ticket_key, range % 2 as account_key from range(5)"
    )
    spec = ModelSpec.model_validate_json(
        (Path(__file__).parent / "cases" / "tickets_and_invoices_by_account.json").read_text()
    )
    refs = {("ref", n): n for n in ("stg_accounts", "stg_invoices", "stg_tickets")}
    rows = con.execute(
        "select account_key, total_invoice_total, ticket_count from ("
        + render_static(render_sql(spec), refs)
        + ") order by 1"
    ).fetchall()
    # invoices: 2 of 10.0 per account; tickets: accounts 0 and 1 have 3 and 2, account 2 none.
    assert [(a, float(i), t) for a, i, t in rows] == [(0, 20.0, 3), (1, 20.0, 2), (2, 20.0, None)]
