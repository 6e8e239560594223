"""Each inference rule, with the guards against overfitting the data."""

from __future__ import annotations

from datetime import datetime, timedelta

from martsmith.context.catalog import ForeignKey
from martsmith.inference.evidence import nice_bound, widened_range
from martsmith.inference.infer import infer_tests

from .conftest import catalog, col, profile, table


def infer(t, p, cat=None, profiles=None):
    return infer_tests(t, p, cat or catalog(t), profiles or {})


def names(specs):
    return {(s.name, s.column) for s in specs}


def test_primary_key_by_name_and_data_with_reason():
    cols = [col("id", rows=8412)]
    t = table("orders", cols)
    specs = infer(t, profile(t, 8412, cols))
    assert {("unique", "id"), ("not_null", "id")} <= names(specs)
    unique = next(s for s in specs if s.name == "unique")
    assert unique.reason == "8,412 rows, 0 nulls, 8,412 distinct: primary key by name and data"


def test_entity_id_is_a_primary_key_name():
    cols = [col("order_id", rows=300), col("note", "VARCHAR", rows=300)]
    t = table("orders", cols)
    assert ("unique", "order_id") in names(infer(t, profile(t, 300, cols)))


def test_primary_key_with_duplicates_is_still_a_candidate_to_check():
    cols = [col("id", rows=1019, distinct=1000)]
    t = table("orders", cols)
    unique = next(s for s in infer(t, profile(t, 1019, cols, keys=[])) if s.name == "unique")
    assert "duplicates" in unique.reason


def test_no_unique_on_a_twenty_row_coincidence():
    cols = [col("id", rows=20), col("sku_code", "VARCHAR", rows=20), col("price", "DOUBLE", rows=20)]
    t = table("widgets_log", cols)  # entity 'widgets_log': `id` is still a key name
    specs = infer(t, profile(t, 20, cols))
    assert ("unique", "sku_code") not in names(specs)  # unique by coincidence in 20 rows
    assert ("unique", "price") not in names(specs)


def test_identifier_unique_in_enough_rows_gets_unique():
    cols = [col("id", rows=500), col("sku_code", "VARCHAR", rows=500), col("price", "DOUBLE", rows=500)]
    t = table("products", cols)
    specs = names(infer(t, profile(t, 500, cols)))
    assert ("unique", "sku_code") in specs
    assert ("unique", "price") not in specs  # a measure unique by chance is not a key


def test_composite_key_when_no_single_key():
    cols = [
        col("order_id", rows=400, distinct=100),
        col("line_number", rows=400, distinct=4),
        col("qty", rows=400, distinct=9),
    ]
    t = table("order_lines", cols)
    specs = infer(t, profile(t, 400, cols, keys=[["order_id", "line_number"]]))
    combo = [s for s in specs if s.name == "martsmith.unique_combination_of_columns"]
    assert combo and combo[0].arguments == {"combination_of_columns": ["order_id", "line_number"]}
    assert {("not_null", "order_id"), ("not_null", "line_number")} <= names(specs)


def test_unverified_composite_key_of_a_large_table_is_a_candidate():
    # Above a million rows the profiler estimates keys it cannot prove cheaply; inference still
    # proposes the test (the check stage runs it on all rows), and says it is an estimate.
    cols = [col("order_id", rows=3_000_000, distinct=1_000_000), col("line_number", rows=3_000_000, distinct=5)]
    t = table("order_lines", cols)
    p = profile(t, 3_000_000, cols, keys=[])
    p.unverified_key_candidates = [["order_id", "line_number"]]
    combo = [s for s in infer(t, p) if s.name == "martsmith.unique_combination_of_columns"]
    assert combo and combo[0].arguments == {"combination_of_columns": ["order_id", "line_number"]}
    assert "by estimate" in combo[0].reason


def test_no_composite_key_on_a_small_table():
    cols = [col("a_code", "VARCHAR", rows=30, distinct=10), col("b_code", "VARCHAR", rows=30, distinct=3)]
    t = table("pairs", cols)
    specs = infer(t, profile(t, 30, cols, keys=[["a_code", "b_code"]]))
    assert not [s for s in specs if s.name == "martsmith.unique_combination_of_columns"]


def test_not_null_only_where_meaning_requires_it():
    cols = [
        col("id", rows=200),
        col("customer_id", rows=200, distinct=50),
        col("ordered_at", "TIMESTAMP", rows=200),
        col("shipped_at", "TIMESTAMP", rows=200),
        col("gift_message", "VARCHAR", rows=200, distinct=180),
        col("discount", "DOUBLE", rows=200, nulls=20, distinct=10),
    ]
    orders = table("orders", cols)
    customers = table("customers", [col("id", rows=50)])
    fk = ForeignKey(orders.label, "customer_id", customers.label, "id")
    specs = names(infer(orders, profile(orders, 200, cols), catalog(orders, customers, fks=[fk])))
    assert {("not_null", "customer_id"), ("not_null", "ordered_at")} <= specs
    assert ("not_null", "shipped_at") not in specs  # an optional later event, even if never null today
    assert ("not_null", "gift_message") not in specs  # no meaning says it is required
    assert ("not_null", "discount") not in specs  # has nulls


def test_relationships_for_foreign_keys():
    orders = table("orders", [col("id", rows=200), col("customer_id", rows=200, distinct=50)])
    customers = table("customers", [col("id", rows=50)])
    fk = ForeignKey(orders.label, "customer_id", customers.label, "id")
    specs = infer(
        orders,
        profile(orders, 200, orders_cols := [col("id", rows=200), col("customer_id", rows=200, distinct=50)]),
        catalog(orders, customers, fks=[fk]),
    )
    rel = next(s for s in specs if s.name == "relationships")
    assert rel.column == "customer_id"
    assert rel.arguments == {"to": "source('shop', 'customers')", "field": "id"}
    assert orders_cols


def test_accepted_values_for_categories():
    top = [("placed", 60), ("shipped", 30), ("returned", 10)]
    cols = [col("id", rows=100), col("status", "VARCHAR", rows=100, distinct=3, top_values=top, max_length=8)]
    t = table("orders", cols)
    spec = next(s for s in infer(t, profile(t, 100, cols)) if s.name == "accepted_values")
    assert spec.arguments == {"values": ["placed", "returned", "shipped"]}


def test_accepted_values_leave_out_spelling_variants():
    top = [("placed", 60), ("shipped", 30), ("Shipped", 10)]
    cols = [col("id", rows=100), col("status", "VARCHAR", rows=100, distinct=3, top_values=top, max_length=8)]
    t = table("orders", cols)
    spec = next(s for s in infer(t, profile(t, 100, cols)) if s.name == "accepted_values")
    assert spec.arguments == {"values": ["placed", "shipped"]}
    assert "Shipped" in spec.reason


def test_no_accepted_values_on_free_text_or_thin_evidence():
    emails = [(f"user{i}@example.com", 1) for i in range(10)]
    names_ = [("Ann", 20), ("Bob", 20), ("Cy", 20)]
    cols = [
        col("id", rows=100),
        col("email", "VARCHAR", rows=100, distinct=10, top_values=[(e, 10) for e, _ in emails], max_length=20),
        col("first_name", "VARCHAR", rows=60, distinct=3, top_values=names_, max_length=3),
        col("comment_text", "VARCHAR", rows=100, distinct=4, top_values=[("x" * 80, 25)] * 4, max_length=80),
        col("tier", "VARCHAR", rows=100, distinct=20, top_values=[(f"t{i}", 5) for i in range(20)], max_length=3),
    ]
    t = table("customers", cols)
    specs = infer(t, profile(t, 100, cols))
    assert not [s for s in specs if s.name == "accepted_values"]  # tier: 20 > 15 values
    small = [
        col("id", rows=30),
        col("status", "VARCHAR", rows=30, distinct=2, top_values=[("a", 15), ("b", 15)], max_length=1),
    ]
    t2 = table("orders", small)
    assert not [s for s in infer(t2, profile(t2, 30, small)) if s.name == "accepted_values"]  # < 50 rows
    rare = [
        col("id", rows=60),
        col("grade", "VARCHAR", rows=60, distinct=14, top_values=[(f"g{i}", 4) for i in range(14)], max_length=3),
    ]
    t3 = table("orders", rare)
    assert not [s for s in infer(t3, profile(t3, 60, rare)) if s.name == "accepted_values"]  # 60/14 < 5 repeats


def test_not_negative_by_name_and_data():
    cols = [
        col("id", rows=300),
        col("amount", "DECIMAL(10,2)", rows=300, distinct=200, min=0.5, max=99.0, negative_count=0),
    ]
    t = table("payments", cols)
    spec = next(s for s in infer(t, profile(t, 300, cols)) if s.column == "amount")
    assert spec.name == "martsmith.not_negative"


def test_many_negatives_mean_the_name_misleads():
    cols = [
        col("id", rows=300),
        col("amount", "DOUBLE", rows=300, distinct=200, min=-50.0, max=99.0, negative_count=90),
    ]
    t = table("adjustments", cols)
    assert not [s for s in infer(t, profile(t, 300, cols)) if s.column == "amount"]


def test_few_negatives_are_a_candidate_to_report():
    cols = [col("id", rows=300), col("quantity", rows=300, distinct=12, min=-2, max=9, negative_count=2)]
    t = table("order_items", cols)
    assert ("martsmith.not_negative", "quantity") in names(infer(t, profile(t, 300, cols)))


def test_accepted_range_with_margin():
    cols = [col("id", rows=300), col("rating", "DOUBLE", rows=300, distinct=40, min=1.0, max=5.0, negative_count=0)]
    t = table("reviews", cols)
    spec = next(s for s in infer(t, profile(t, 300, cols)) if s.column == "rating")
    assert spec.name == "martsmith.accepted_range"
    assert spec.arguments == {"min_value": 0, "max_value": 7}
    assert spec.arguments["min_value"] <= 1.0 and spec.arguments["max_value"] >= 5.0


def test_margin_policy_helpers():
    assert widened_range(5, 105) == (0, 160)
    assert widened_range(-10, 10) == (-20, 20)
    assert nice_bound(1234.5, "up") == 1300 and nice_bound(0.0123, "down") == 0.012


def test_text_amount_gets_trim_check():
    cols = [col("id", rows=300), col("amount", "VARCHAR", rows=300, distinct=250, max_length=8)]
    t = table("payments", cols)
    spec = next(s for s in infer(t, profile(t, 300, cols)) if s.column == "amount")
    assert spec.name == "martsmith.expression_is_true" and spec.arguments == {"expression": "= trim(amount)"}


def test_recency_and_not_empty_for_event_tables():
    now = datetime(2026, 11, 26, 12)
    cols = [
        col("id", rows=1000),
        col("created_at", "TIMESTAMP", rows=1000, distinct=1000, min=now - timedelta(days=100), max=now),
    ]
    t = table("events", cols)
    specs = infer(t, profile(t, 1000, cols))
    rec = next(s for s in specs if s.name == "martsmith.recency")
    assert rec.arguments == {"field": "created_at", "datepart": "day", "interval": 2}  # one row per 2.4 h
    assert rec.severity == "warn"
    assert ("martsmith.not_empty", None) in names(specs)


def test_empty_table_infers_nothing():
    cols = [col("id", rows=0)]
    t = table("orders", cols)
    assert infer(t, profile(t, 0, cols)) == []
