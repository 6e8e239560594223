"""Offline planner on the 'shop' source: orders, customers (duplicate ids), products,
order_items, payments (amount as text). Assertions are on the spec contents."""

from __future__ import annotations

import pytest
from plan.fixtures.catalogs import dims, filters, joins, load_catalog, measures

from martsmith.errors import PlanError, UnplacedWordsError, UsageError
from martsmith.plan.offline import plan_offline


def test_revenue_by_customer_country_per_month(shop):
    spec = plan_offline("total revenue by customer country per month", shop)
    assert measures(spec) == [("total_revenue", "sum", "orders", "amount")]
    assert dims(spec) == [
        ("customer_country", "customers", "country", None),
        ("order_month", "orders", "ordered_at", "month"),
    ]
    assert joins(spec) == [("orders", "customer_id", "customers", "id", "left")]
    inputs = {i.alias: i for i in spec.inputs}
    assert inputs["orders"].kind == "source" and inputs["orders"].source_name == "shop"
    assert inputs["orders"].dedupe_key == []
    # customers.id repeats (late-arriving updates): one row per id, the latest, so the join can't fan out
    assert inputs["customers"].dedupe_key == ["id"] and inputs["customers"].dedupe_order_by == "updated_at"
    assert spec.grain == ["customer_country", "order_month"]
    assert spec.surrogate_key == f"{spec.name}_key"
    assert spec.layer == "marts" and spec.materialized == "table" and spec.planner == "offline"
    assert spec.description.startswith("One row per customer country and order month")
    notes = " ".join(spec.notes)
    assert "payments.amount" in notes  # the text column was not summed, and the user is told
    assert "ordered_at" in notes  # the time column was chosen, and the user is told


def test_completed_orders_filter_keeps_every_case_variant(shop):
    spec = plan_offline("monthly revenue by customer country, completed orders only", shop)
    assert filters(spec) == [("orders", "status", "in", ["completed", "Completed"], None)]
    assert measures(spec) == [("total_revenue", "sum", "orders", "amount")]
    assert ("order_month", "orders", "ordered_at", "month") in dims(spec)


@pytest.mark.parametrize(
    "request_",
    [
        "number of orders per status",
        "how many orders by status",
        "count of orders for each status",
        "order count by status",
        "orders per status",
    ],
)
def test_order_count_by_status_phrasings(shop, request_):
    spec = plan_offline(request_, shop)
    assert measures(spec) == [("order_count", "count", "orders", None)]
    assert dims(spec) == [("status", "orders", "status", None)]
    assert spec.joins == [] and [i.alias for i in spec.inputs] == ["orders"]
    assert spec.name == "order_count_by_status"


def test_top_products_by_quantity_sold(shop):
    spec = plan_offline("top 5 products by quantity sold", shop)
    assert measures(spec) == [("total_quantity", "sum", "order_items", "quantity")]
    assert dims(spec) == [
        ("product_id", "order_items", "product_id", None),
        ("product_name", "products", "name", None),
    ]
    assert joins(spec) == [
        ("order_items", "product_id", "products", "id", "inner")
    ]  # grouped by the product: its own rows only
    assert spec.limit == 5
    assert [(o.column, o.direction) for o in spec.order_by] == [("total_quantity", "desc")]


def test_line_table_is_dated_by_its_header(shop):
    # order_items has no date: "sold in 2025" and "per month" use the order's date, joined in.
    spec = plan_offline("top 5 products by quantity sold in 2025", shop)
    assert ("order_items", "order_id", "orders", "id", "left") in joins(spec)
    assert [(f[0], f[1], f[4]) for f in filters(spec)] == [("orders", "ordered_at", "date")] * 2
    assert any("dated by orders" in n for n in spec.notes)
    monthly = plan_offline("total quantity per month", shop)
    assert dims(monthly) == [("order_month", "orders", "ordered_at", "month")]


def test_average_order_amount_by_city_in_year(shop):
    spec = plan_offline("average order amount by customer city in 2024", shop)
    assert measures(spec) == [("avg_order_amount", "avg", "orders", "amount")]
    assert dims(spec) == [("customer_city", "customers", "city", None)]
    assert filters(spec) == [
        ("orders", "ordered_at", ">=", ["2024-01-01"], "date"),
        ("orders", "ordered_at", "<", ["2025-01-01"], "date"),
    ]


def test_word_order_does_not_matter(shop):
    a = plan_offline("revenue per month by customer country", shop)
    b = plan_offline("by customer country, monthly revenue", shop)
    assert measures(a) == measures(b)
    assert sorted(dims(a)) == sorted(dims(b))
    assert joins(a) == joins(b)


def test_chain_join_items_to_orders_to_customers(shop):
    spec = plan_offline("total quantity by customer country", shop)
    assert measures(spec) == [("total_quantity", "sum", "order_items", "quantity")]
    assert joins(spec) == [
        ("order_items", "order_id", "orders", "id", "left"),
        ("orders", "customer_id", "customers", "id", "left"),
    ]
    assert [i.alias for i in spec.inputs] == ["order_items", "orders", "customers"]


def test_count_of_customers_alone_counts_deduplicated_rows(shop):
    spec = plan_offline("how many customers per country", shop)
    assert measures(spec) == [("customer_count", "count", "customers", None)]
    assert dims(spec) == [("country", "customers", "country", None)]
    assert spec.inputs[0].dedupe_key == ["id"]


def test_count_of_customers_from_a_fact_is_distinct_keys(shop):
    spec = plan_offline("number of customers by order month", shop)
    assert measures(spec) == [("customer_count", "count_distinct", "orders", "customer_id")]
    assert dims(spec) == [("order_month", "orders", "ordered_at", "month")]
    assert "customers" not in [i.alias for i in spec.inputs]  # the key is on orders: no join


def test_count_distinct_column(shop):
    spec = plan_offline("number of distinct emails by country", shop)
    assert measures(spec) == [("distinct_email_count", "count_distinct", "customers", "email")]


def test_negation_comparison_and_since(shop):
    spec = plan_offline("revenue of orders not cancelled or returned with amount over 100 since 2024-03-01", shop)
    assert filters(spec) == [
        ("orders", "status", "not in", ["cancelled", "returned"], None),
        ("orders", "amount", ">", [100], None),
        ("orders", "ordered_at", ">=", ["2024-03-01"], "date"),
    ]


def test_date_filter_on_the_named_column(shop):
    spec = plan_offline("number of orders shipped between 2024-01-01 and 2024-06-30", shop)
    assert filters(spec) == [
        ("orders", "shipped_at", ">=", ["2024-01-01"], "date"),
        ("orders", "shipped_at", "<", ["2024-07-01"], "date"),
    ]


def test_boolean_flag_and_value_filters(shop):
    spec = plan_offline("number of active products per category", shop)
    assert filters(spec) == [("products", "is_active", "=", [True], None)]
    assert dims(spec) == [("category", "products", "category", None)]


def test_multiword_value(shop):
    spec = plan_offline("number of payments paid by credit card per month", shop)
    assert ("payments", "method", "in", ["credit_card"], None) in filters(spec)


def test_quoted_literal(shop):
    spec = plan_offline("number of orders with status 'COMPLETED'", shop)
    assert filters(spec) == [("orders", "status", "in", ["completed", "Completed"], None)]


def test_count_via_bridge_table(shop):
    spec = plan_offline("number of customers by product category", shop)
    assert measures(spec) == [("customer_count", "count_distinct", "orders", "customer_id")]
    assert spec.inputs[0].alias == "order_items"


def test_notes_record_the_choice_between_candidates(shop):
    spec = plan_offline("revenue by month", shop)
    assert measures(spec) == [("total_revenue", "sum", "orders", "amount")]
    assert any("products.price" in n for n in spec.notes)


def test_explicit_name_and_determinism(shop):
    a = plan_offline("total revenue by customer country per month", shop, name="revenue_by_country")
    b = plan_offline("total revenue by customer country per month", shop, name="revenue_by_country")
    assert a.name == "revenue_by_country" and a.surrogate_key == "revenue_by_country_key"
    assert a.model_dump_json() == b.model_dump_json()
    with pytest.raises(UsageError):
        plan_offline("total revenue", shop, name="Bad Name")


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("request_", ["", "   \n"])
def test_empty_request(shop, request_):
    with pytest.raises(UsageError) as e:
        plan_offline(request_, shop)
    assert e.value.exit_code == 2


def test_gibberish(shop):
    with pytest.raises(UnplacedWordsError) as e:
        plan_offline("asdf qwerty", shop)
    assert set(e.value.unplaced) == {"asdf", "qwerty"}
    assert e.value.exit_code == 2


def test_unplaced_word_lists_closest_candidates(shop):
    with pytest.raises(UnplacedWordsError) as e:
        plan_offline("revenue by countri and colour", shop)
    # every unplaced word is listed, each with at most 3 closest names
    assert set(e.value.unplaced) == {"countri", "colour"}
    assert e.value.unplaced["countri"][0] == "customers.country"
    assert all(len(c) <= 3 for c in e.value.unplaced.values())


def test_unplaced_typo_suggests_the_column(shop):
    with pytest.raises(UnplacedWordsError) as e:
        plan_offline("revenue by cuntry", shop)
    assert "customers.country" in e.value.unplaced["cuntry"]


def test_text_column_is_never_summed(shop):
    # 'amount of payments' pins payments.amount, stored as VARCHAR: a clear error, not a sum
    with pytest.raises(PlanError) as e:
        plan_offline("total amount of payments by method", shop)
    assert "payments.amount" in str(e.value) and "VARCHAR" in str(e.value)


def test_ambiguous_text_dimension():
    cat = load_catalog("shop")
    for t in cat.tables:
        if t.name == "payments":
            t.columns.append(type(t.columns[0])("status", "VARCHAR"))
    with pytest.raises(PlanError) as e:
        plan_offline("number of rows by status", cat)
    assert "orders.status" in str(e.value) and "payments.status" in str(e.value)
    assert "'orders status'" in e.value.hint  # type: ignore[operator]


def test_fan_out_is_refused(shop):
    with pytest.raises(PlanError) as e:
        plan_offline("total revenue by product category", shop)
    assert "fan-out" in str(e.value) and "products" in str(e.value)


def test_relative_dates_are_relative_to_the_run_date(shop):
    spec = plan_offline("revenue by day for the last 30 days", shop)
    (f,) = [f for f in spec.filters if f.relative]
    assert (f.op, f.relative.grain, f.relative.offset) == (">=", "day", -30)
    assert "current_date" in spec.description


def test_unsupported_aggregation(shop):
    with pytest.raises(PlanError, match="median"):
        plan_offline("median order amount by country", shop)


def test_measures_of_different_grains(shop):
    with pytest.raises(PlanError, match="different grains"):
        plan_offline("total quantity and total order amount by month", shop)
