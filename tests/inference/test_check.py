"""Candidates run against a small DuckDB file: violations become findings with example keys."""

from __future__ import annotations

from martsmith.context.catalog import ForeignKey
from martsmith.inference.check import check_tests
from martsmith.spec import TestSpec

from .conftest import catalog, col, profile, table


def _load(duck) -> None:
    duck.execute("create schema raw")
    duck.execute(
        "create table raw.orders as select i as id, i % 7 as customer_id, "
        "case when i in (17, 204, 811) then -5.0 else i * 1.5 end as amount, "
        "case when i % 2 = 0 then 'placed' else 'shipped' end as status "
        "from range(1, 1001) t(i)"
    )
    duck.execute("insert into raw.orders values (4, 1, 1.0, 'placed'), (9, 1, 1.0, 'placed')")
    duck.execute("create table raw.customers as select i as id from range(0, 5) t(i)")  # 5, 6 missing


def _setup(duck):
    _load(duck)
    ocols = [
        col("id", rows=1002, distinct=1000),
        col("customer_id", rows=1002, distinct=7),
        col("amount", "DOUBLE", rows=1002),
        col("status", "VARCHAR", rows=1002, distinct=2),
    ]
    orders = table("orders", ocols)
    customers = table("customers", [col("id", rows=5)])
    fk = ForeignKey(orders.label, "customer_id", customers.label, "id", origin="declared")
    return orders, profile(orders, 1002, ocols, keys=[]), catalog(orders, customers, fks=[fk])


def test_findings_with_example_keys(duck):
    orders, prof, cat = _setup(duck)
    tests = [
        TestSpec(name="martsmith.not_negative", column="amount"),
        TestSpec(name="unique", column="id"),
        TestSpec(
            name="relationships", column="customer_id", arguments={"to": "source('shop', 'customers')", "field": "id"}
        ),
        TestSpec(name="accepted_values", column="status", arguments={"values": ["placed", "shipped"]}),
        TestSpec(name="not_null", column="id"),
        TestSpec(name="martsmith.not_empty"),
    ]
    results = {r.test.name: r for r in check_tests(duck, orders, prof, tests, cat)}
    assert results["martsmith.not_negative"].message == "3 orders have a negative amount (ids: 17, 204, 811)"
    assert results["unique"].message == "id is not unique: 2 duplicated values (e.g. 4, 9)"
    rel = results["relationships"]
    assert rel.failures == 286 and rel.examples == [5, 6, 12, 13, 19]
    assert rel.message.startswith("286 orders point to no customer in source:shop.customers (ids: 5, 6, 12, 13, 19)")
    assert results["accepted_values"].passed and results["not_null"].passed and results["martsmith.not_empty"].passed


def test_inferred_foreign_key_with_mostly_orphans_is_dropped(duck):
    orders, prof, cat = _setup(duck)
    duck.execute("delete from raw.customers where id > 0")
    cat.foreign_keys[0].origin = "inferred"
    test = TestSpec(
        name="relationships", column="customer_id", arguments={"to": "source('shop', 'customers')", "field": "id"}
    )
    (result,) = check_tests(duck, orders, prof, [test], cat)
    assert result.dropped.startswith("customer_id is not a foreign key after all")
    assert not result.passed


def test_composite_and_expression_and_range(duck):
    orders, prof, cat = _setup(duck)
    tests = [
        TestSpec(
            name="martsmith.unique_combination_of_columns", arguments={"combination_of_columns": ["id", "status"]}
        ),
        TestSpec(name="martsmith.accepted_range", column="amount", arguments={"min_value": 0, "max_value": 2000}),
        TestSpec(name="martsmith.expression_is_true", arguments={"expression": "customer_id <= 6"}),
    ]
    results = check_tests(duck, orders, prof, tests, cat)
    assert results[0].message == "(id, status) is not unique: 1 duplicated combination (e.g. (4, placed))"
    assert results[1].message == "3 orders have an amount outside [0, 2000] (ids: 17, 204, 811)"
    assert results[2].passed


class _Batching:
    """The test's DuckDB connection as a warehouse whose queries are jobs (`batch_queries`, as on
    Spark), counting the queries it is asked."""

    batch_queries = True

    def __init__(self, duck) -> None:
        self._duck, self.queries = duck, []

    def query(self, sql, params=None):
        self.queries.append(sql)
        return self._duck.query(sql, params)

    def __getattr__(self, name):
        return getattr(self._duck, name)


def test_checks_in_one_union_give_the_same_results_with_fewer_queries(duck):
    orders, prof, cat = _setup(duck)
    tests = [
        TestSpec(name="martsmith.not_negative", column="amount"),
        TestSpec(name="unique", column="id"),
        TestSpec(name="accepted_values", column="status", arguments={"values": ["placed", "shipped"]}),
        TestSpec(name="not_null", column="id"),
        TestSpec(name="not_null", column="status"),
        TestSpec(name="martsmith.accepted_range", column="amount", arguments={"min_value": -10, "max_value": 2000}),
        TestSpec(name="martsmith.not_empty"),
    ]
    one_by_one = check_tests(duck, orders, prof, tests, cat)
    batching = _Batching(duck)
    batched = check_tests(batching, orders, prof, tests, cat)
    assert [(r.failures, r.examples, r.message) for r in batched] == [
        (r.failures, r.examples, r.message) for r in one_by_one
    ]
    assert [r.passed for r in batched] == [False, False, True, True, True, True, True]
    # One union for the five that count rows, each failing one again for its examples, and
    # not_empty on its own: 4 queries instead of 7.
    assert sum(" union all " in q for q in batching.queries) == 1
    assert len(batching.queries) == 4
