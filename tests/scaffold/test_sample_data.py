"""The sample shop dataset: deterministic, scaled, commented, with exactly the planted problems."""

from __future__ import annotations

import duckdb
import pytest

from martsmith.scaffold.sample import (
    COLUMN_COMMENTS,
    PLANTED_PROBLEMS,
    TABLE_COMMENTS,
    TABLES,
    expected_count,
    load_sample,
    sample_size,
    stride_count,
)

EXPECTED_TYPES = {
    "customers": [
        ("id", "INTEGER"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("email", "VARCHAR"),
        ("country", "VARCHAR"),
        ("city", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
    "products": [
        ("id", "INTEGER"),
        ("name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price", "DECIMAL(10,2)"),
        ("is_active", "BOOLEAN"),
    ],
    "orders": [
        ("id", "INTEGER"),
        ("customer_id", "INTEGER"),
        ("status", "VARCHAR"),
        ("ordered_at", "TIMESTAMP"),
        ("shipped_at", "TIMESTAMP"),
        ("amount", "DECIMAL(12,2)"),
        ("updated_at", "TIMESTAMP"),
    ],
    "order_items": [
        ("id", "INTEGER"),
        ("order_id", "INTEGER"),
        ("product_id", "INTEGER"),
        ("quantity", "INTEGER"),
        ("unit_price", "DECIMAL(10,2)"),
        ("discount", "DECIMAL(4,2)"),
    ],
    "payments": [
        ("id", "INTEGER"),
        ("order_id", "INTEGER"),
        ("method", "VARCHAR"),
        ("amount", "VARCHAR"),
        ("paid_at", "TIMESTAMP"),
    ],
}


def _loaded(scale: float):
    con = duckdb.connect()
    counts = load_sample(con, scale)
    return con, counts


def _one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _checksums(con) -> dict[str, tuple]:
    return {t: tuple(con.execute(f"select count(*), sum(hash(t)) from raw.{t} t").fetchall()[0]) for t in TABLES}


@pytest.fixture(scope="module")
def shop():
    con, counts = _loaded(1.0)
    yield con
    con.close()


def test_same_scale_same_data():
    a, _ = _loaded(0.2)
    b, _ = _loaded(0.2)
    assert _checksums(a) == _checksums(b)
    c, _ = _loaded(0.25)
    assert all(_checksums(a)[t] != _checksums(c)[t] for t in ("customers", "orders", "order_items", "payments"))


def test_reloading_replaces_the_tables():
    con, first = _loaded(0.1)
    before = _checksums(con)
    assert load_sample(con, 0.1) == first
    assert _checksums(con) == before


def test_row_counts_follow_the_scale_factor(shop):
    counts = {t: _one(shop, f"select count(*) from raw.{t}") for t in TABLES}
    size = sample_size(1.0)
    assert counts["customers"] == (
        size.customers + expected_count("duplicate_customer_rows", 1.0) + expected_count("late_customer_updates", 1.0)
    )
    assert counts["products"] == size.products == 50
    assert counts["orders"] == size.orders + expected_count("late_order_status_updates", 1.0)
    assert 9_000 <= counts["order_items"] <= 11_000  # scale 1.0 is about 10,000 order items
    small, big = _loaded(0.3)[1], _loaded(0.6)[1]
    assert 1.8 < big["order_items"] / small["order_items"] < 2.2
    assert 1.8 < big["orders"] / small["orders"] < 2.2
    assert small["products"] >= 20


def test_sizes_at_benchmark_scale():
    size = sample_size(1000)
    assert size.orders * 3 == pytest.approx(10_000_000, rel=0.01)  # 1-5 items per order, 3 on average
    assert size.products == round(50 * 1000**0.5)
    with pytest.raises(ValueError):
        sample_size(0)


@pytest.mark.parametrize("problem", PLANTED_PROBLEMS, ids=lambda p: p.key)
def test_planted_problems_have_the_declared_counts(shop, problem):
    expected = problem.expected(1.0)
    assert expected >= 3
    assert _one(shop, problem.check_sql) == expected


def test_planted_problems_exist_at_the_fixture_scale():
    con, _ = _loaded(0.3)
    for problem in PLANTED_PROBLEMS:
        assert _one(con, problem.check_sql) == problem.expected(0.3) >= 1, problem.key


def test_stride_count_matches_brute_force():
    for n in (1, 13, 100, 1009):
        for m, residues in ((7, (0,)), (50, (3, 13, 8)), (97, (13,))):
            assert stride_count(n, m, residues) == sum(1 for i in range(1, n + 1) if i % m in residues)


def test_columns_have_the_agreed_names_and_types(shop):
    for table, expected in EXPECTED_TYPES.items():
        rows = shop.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = 'raw' "
            "and table_name = ? order by column_index",
            [table],
        ).fetchall()
        assert rows == expected, table


def test_every_table_and_column_has_a_comment(shop):
    tables = dict(shop.execute("select table_name, comment from duckdb_tables() where schema_name = 'raw'").fetchall())
    assert tables == TABLE_COMMENTS
    columns = shop.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'raw'"
    ).fetchall()
    assert len(columns) == sum(len(c) for c in EXPECTED_TYPES.values())
    for table, column, comment in columns:
        assert comment and comment == COLUMN_COMMENTS[table][column]
    assert COLUMN_COMMENTS["orders"]["amount"] == "Order total in USD, after discounts."


def test_clean_parts_are_clean(shop):
    q = lambda sql: _one(shop, sql)  # noqa: E731
    # shipped_at is null exactly when the order has not shipped
    assert (
        q("select count(*) from raw.orders where (shipped_at is null) <> (lower(status) in ('placed', 'cancelled'))")
        == 0
    )
    assert (
        q(
            "select count(*) from raw.orders where lower(status) not in "
            "('placed', 'shipped', 'completed', 'returned', 'cancelled')"
        )
        == 0
    )
    # fixed calendar, ending 2025-12-31
    assert q(
        "select min(ordered_at) >= timestamp '2024-01-01' and max(ordered_at) <= timestamp '2025-12-31 23:59:59' from raw.orders"
    )
    # the latest version of each order: payments add up to the amount, cancelled orders are unpaid
    assert (
        q("""
        with latest as (select * from raw.orders qualify row_number() over (partition by id order by updated_at desc) = 1),
        paid as (select order_id, sum(trim(amount)::decimal(12, 2)) as paid from raw.payments group by 1)
        select count(*) from latest left join paid on paid.order_id = latest.id
        where (lower(status) = 'cancelled') <> (paid.paid is null) or paid.paid <> latest.amount
    """)
        == 0
    )
    # the amount is the sum of the lines (with the intended, positive quantities)
    assert (
        q("""
        with lines as (select order_id, sum(round(abs(quantity) * unit_price * (1 - discount), 2)) as total
                       from raw.order_items group by 1)
        select count(*) from raw.orders o join lines l on l.order_id = o.id where o.amount <> l.total
    """)
        == 0
    )
    assert (
        q(
            "select count(*) from (select order_id, count(*) n from raw.order_items group by 1) where n not between 1 and 5"
        )
        == 0
    )
    assert q("select count(*) - count(distinct id) from raw.order_items") == 0
    assert q("select count(*) - count(distinct id) from raw.payments") == 0
    assert (
        q(
            "select count(*) from raw.payments where method not in ('credit_card', 'bank_transfer', 'gift_card', 'coupon')"
        )
        == 0
    )
    # late customer updates change the email and the country
    assert (
        q("""
        select count(*) from (
            select id, count(distinct coalesce(email, '-')) as e, count(distinct coalesce(country, '-')) as c,
                count(distinct updated_at) as u
            from raw.customers group by id having u > 1
        ) where e < 2 or c < 2
    """)
        == 0
    )
    assert q("select count(distinct trim(lower(country))) from raw.customers") == 10
