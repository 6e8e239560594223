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
    assert measures["quantity"].additivity == "additive" and not measures["quantity"].not_negative
    assert measures["unit_price"].additivity == "non_additive" and measures["unit_price"].not_negative
    assert any("negative values" in n for n in star.notes)
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
    cat = catalog(source("countries", {"id": "INTEGER", "country_name": "VARCHAR"}, src="geo", rows=10),
                  source("cities", {"id": "INTEGER", "city_name": "VARCHAR"}, src="geo", rows=90))
    with pytest.raises(PlanError, match="no plausible fact") as exc:
        plan_star(cat, None, source="geo")
    assert "countries: no foreign keys" in exc.value.hint


def test_grain_contradicted_by_the_data_reports_examples(billing):
    subs = billing.table("source:billing.subscriptions")
    subs.primary_key_unique = False
    with pytest.raises(PlanError, match="several rows per id") as exc:
        plan_star(billing, None, source="billing", probe=FakeProbe(duplicates=[(17, 3), (42, 2)]))
    assert "id=17 x3" in exc.value.message


def test_ambiguous_foreign_key_names_the_choices():
    cat = catalog(
        source("customers", {"id": "INTEGER"}, src="s", rows=5),
        source("customer", {"id": "INTEGER"}, src="s", rows=5),
        source("sales", {"id": "INTEGER", "customer_id": "INTEGER", "amount": "DOUBLE"}, src="s", rows=50),
    )
    with pytest.raises(PlanError, match="could point at several tables: customer, customers"):
        plan_star(cat, None, source="s")


def test_snowflake_normalises_category(shop):
    star = plan_star(shop, SALES, snowflake=True, probe=FakeProbe())
    dims = {d.name: d for d in star.dimensions}
    assert dims["dim_product"].outriggers[0].dimension == "dim_category"
    assert dims["dim_category"].distinct_of == "category"


def test_linking_words():
    assert date_role("ordered_at") == "order" and date_role("shipped_at") == "ship"
    mentions, unplaced, area = link_description("finance star with invoices", [])
    assert area == "finance" and unplaced == ["invoices"]
