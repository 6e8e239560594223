"""The offline star planner on in-memory catalogs (no warehouse, no dbt)."""

from __future__ import annotations

import pytest

from martsmith.errors import PlanError
from martsmith.star.plan import date_role, link_description, plan_star
from tests.star.conftest import FakeProbe, catalog, source

SALES = "sales star schema: order lines as the fact, with customers, products and dates as dimensions"


def test_sales_description_links_fact_header_and_dimensions(shop):
    star = plan_star(shop, SALES, probe=FakeProbe(minimums={"quantity": -1}))
    assert star.area == "sales" and star.source_name == "shop"
    (fact,) = star.facts
    assert fact.name == "fct_order_items" and fact.grain == ["order_item_id"]
    assert [p.alias for p in fact.parents] == ["orders"]  # the header, folded into the fact
    keys = {fk.name: (fk.dimension, fk.input, fk.column) for fk in fact.foreign_keys}
    assert keys["customer_key"] == ("dim_customer", "orders", "customer_id")  # carried down
    assert keys["product_key"] == ("dim_product", "fact", "product_id")
    assert keys["order_date_key"] == ("dim_date", "orders", "ordered_at")
    assert keys["ship_date_key"] == ("dim_date", "orders", "shipped_at")
    assert {d.name for d in star.dimensions} == {"dim_customer", "dim_product"}
    assert (star.date_dimension.start_date, star.date_dimension.end_date) == ("2024-01-01", "2026-01-01")
    measures = {m.name: m for m in fact.measures}
    assert measures["quantity"].additivity == "additive" and measures["quantity"].tests == []
    assert measures["unit_price"].additivity == "non_additive"
    assert [t.name for t in measures["unit_price"].tests] == ["martsmith.not_negative"]
    assert (
        "fct_order_items.quantity: 1 order_items row has a negative quantity (order_item_ids: 17): "
        "no martsmith.not_negative test (fix the data, then add it)" in star.notes
    )
    stg = {s.name: s for s in star.staging}
    assert stg["stg_shop__customers"].dedupe and stg["stg_shop__customers"].dedupe_order_by == "updated_at"
    assert stg["stg_shop__customers"].column("country").transform == "trim_lower"
    assert stg["stg_shop__products"].column("product_name").source_column == "name"


def test_from_source_proposes_layout_with_reasons(billing):
    star = plan_star(billing, None, source="billing", probe=FakeProbe())
    (fact,) = star.facts
    assert fact.name == "fct_subscriptions" and not fact.parents
    assert {fk.name for fk in fact.foreign_keys} == {"account_key", "plan_key", "start_date_key"}
    assert {m.name for m in fact.measures} == {"seats", "mrr"}
    text = "\n".join(star.reasons)
    assert "subscriptions: fact fct_subscriptions" in text
    assert "accounts: dimension dim_account" in text and "plans: dimension dim_plan" in text


def test_unknown_entities_are_named_with_what_the_data_has(shop):
    with pytest.raises(PlanError) as exc:
        plan_star(shop, "star schema of flights with airlines as dimensions")
    assert exc.value.exit_code == 2
    assert "'flights'" in exc.value.message and "'airlines'" in exc.value.message
    assert "customers, products, orders, order_items" in exc.value.hint


def test_no_plausible_fact():
    cat = catalog(
        source("countries", {"id": "INTEGER", "country_name": "VARCHAR"}, src="geo", rows=10),
        source("cities", {"id": "INTEGER", "city_name": "VARCHAR"}, src="geo", rows=90),
    )
    with pytest.raises(PlanError, match="no plausible fact") as exc:
        plan_star(cat, None, source="geo")
    assert "countries: no foreign keys" in exc.value.hint


def test_measures_get_tests_the_data_supports_by_the_margin_policy(shop, billing):
    star = plan_star(shop, SALES, probe=FakeProbe(minimums={"discount": 0.05}))
    tests = {m.name: m.tests for m in star.facts[0].measures}
    (discount,) = tests["discount"]  # a measure name, observed 0.05..100: widened by half the spread
    assert (discount.name, discount.arguments) == ("martsmith.accepted_range", {"min_value": 0, "max_value": 150})
    assert "widened by 0.5x the spread" in discount.reason
    # Names that say neither "never negative" nor "a measure" get no test from the data alone.
    star = plan_star(billing, None, source="billing", probe=FakeProbe())
    assert all(m.tests == [] for m in star.facts[0].measures)


def test_without_a_probe_measure_tests_are_not_guessed(billing):
    star = plan_star(billing, None, source="billing")
    assert all(m.tests == [] for m in star.facts[0].measures)
    assert "measure tests were not inferred: the data was not profiled" in star.notes


def test_fact_grain_contradicted_by_the_data_reports_examples(billing):
    subs = billing.table("source:billing.subscriptions")
    subs.primary_key_unique = False
    with pytest.raises(PlanError) as exc:
        plan_star(billing, None, source="billing", probe=FakeProbe(duplicates=[(17, 3), (42, 2)]))
    assert exc.value.exit_code == 2
    assert exc.value.message == (
        "The data contradicts the grain of fct_subscriptions, one row per subscription, (subscriptions.id): "
        "subscriptions has several rows per id (e.g. id 17 (3 rows), id 42 (2 rows)) and no updated_at-like "
        "column to keep the latest."
    )
    assert "Deduplicate subscriptions" in exc.value.hint


def test_ambiguous_foreign_key_names_the_choices():
    cat = catalog(
        source("customers", {"id": "INTEGER"}, src="s", rows=5),
        source("customer", {"id": "INTEGER"}, src="s", rows=5),
        source("sales", {"id": "INTEGER", "customer_id": "INTEGER", "amount": "DOUBLE"}, src="s", rows=50),
    )
    with pytest.raises(PlanError, match="could point at several tables: customer, customers"):
        plan_star(cat, None, source="s")


def test_declared_keys_to_several_tables_name_the_choices(billing):
    from martsmith.context.catalog import ForeignKey

    billing.foreign_keys.append(
        ForeignKey("source:billing.subscriptions", "plan_id", "source:billing.accounts", "id", "declared")
    )
    with pytest.raises(PlanError) as exc:
        plan_star(billing, None, source="billing")
    assert exc.value.message == "subscriptions.plan_id could point at several tables: accounts, plans."
    assert "Keep one `relationships` test" in exc.value.hint


def test_circular_foreign_keys_ask_which_table_is_the_fact():
    cat = catalog(
        source("teams", {"id": "INTEGER", "captain_id": "INTEGER", "budget": "DOUBLE"}, src="s", rows=10),
        source("captains", {"id": "INTEGER", "team_id": "INTEGER", "salary": "DOUBLE"}, src="s", rows=10),
    )
    with pytest.raises(PlanError) as exc:
        plan_star(cat, None, source="s")
    assert exc.value.exit_code == 2
    assert exc.value.message.startswith("The foreign keys form a cycle (")
    assert "captains.team_id -> teams" in exc.value.message and "teams.captain_id -> captains" in exc.value.message
    assert "as the fact" in exc.value.hint
    # Naming the fact breaks the cycle: keys pointing at the fact are not followed.
    star = plan_star(cat, "teams as the fact with captains", source="s")
    assert star.facts[0].name == "fct_teams" and [d.name for d in star.dimensions] == ["dim_captain"]
    assert "captains.team_id points at the fact teams: not followed" in star.notes


def test_two_keys_to_one_dimension_ask_for_the_role():
    cat = catalog(
        source("customers", {"id": "INTEGER"}, src="s", rows=5),
        source("orders", {"id": "INTEGER", "customer_id": "INTEGER", "ordered_at": "TIMESTAMP"}, src="s", rows=20),
        source(
            "sales",
            {"id": "INTEGER", "order_id": "INTEGER", "customer_id": "INTEGER", "amount": "DOUBLE"},
            src="s",
            rows=50,
        ),
    )
    with pytest.raises(PlanError) as exc:
        plan_star(cat, None, source="s")
    assert exc.value.message == (
        "fct_sales reaches customers twice, by sales.customer_id and by "
        "orders.customer_id: which customer does each one mean?"
    )
    assert "billing_customer_id" in exc.value.hint


def test_role_named_keys_get_role_named_columns():
    from martsmith.context.catalog import ForeignKey

    cat = catalog(
        source("users", {"id": "INTEGER"}, src="m", rows=5),
        source(
            "trades",
            {"id": "INTEGER", "buyer_id": "INTEGER", "seller_id": "INTEGER", "price": "DOUBLE"},
            src="m",
            rows=50,
        ),
    )
    cat.foreign_keys += [
        ForeignKey("source:m.trades", c, "source:m.users", "id", "declared") for c in ("buyer_id", "seller_id")
    ]
    star = plan_star(cat, None, source="m")
    assert [(k.name, k.dimension) for k in star.facts[0].foreign_keys] == [
        ("buyer_key", "dim_user"),
        ("seller_key", "dim_user"),
    ]


def test_snowflake_normalises_category(shop):
    star = plan_star(shop, SALES, snowflake=True, probe=FakeProbe())
    dims = {d.name: d for d in star.dimensions}
    assert dims["dim_product"].outriggers[0].dimension == "dim_category"
    assert dims["dim_category"].distinct_of == "category"


def test_linking_words():
    assert date_role("ordered_at") == "order" and date_role("shipped_at") == "ship"
    mentions, unplaced, area = link_description("finance star with invoices", [])
    assert area == "finance" and unplaced == ["invoices"]
