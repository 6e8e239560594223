"""Offline planner on a different domain and naming: dbt models (kind 'model') for a SaaS
business, keys named *_key, dates named *_on, plan tiers with a stray 'Pro ' variant."""

from __future__ import annotations

import pytest
from plan.fixtures.catalogs import dims, filters, measures

from martsmith.errors import PlanError, UnplacedWordsError
from martsmith.plan.offline import plan_offline


def test_models_are_refs_and_duplicated_keys_are_deduplicated(saas):
    spec = plan_offline("total mrr by plan tier", saas)
    assert measures(spec) == [("total_mrr", "sum", "stg_subscriptions", "mrr")]
    assert dims(spec) == [("plan_tier", "stg_subscriptions", "plan_tier", None)]
    (inp,) = spec.inputs
    assert inp.kind == "ref" and inp.table == "stg_subscriptions" and inp.source_name is None
    assert inp.dedupe_key == ["subscription_key"] and inp.dedupe_order_by == "_loaded_at"


def test_column_named_with_an_aggregation_word(saas):
    spec = plan_offline("monthly invoice total by account region", saas)
    assert measures(spec) == [("invoice_total", "sum", "stg_invoices", "invoice_total")]
    assert dims(spec) == [
        ("account_region", "stg_accounts", "region", None),
        ("invoice_month", "stg_invoices", "issued_on", "month"),
    ]
    assert [(j.left, j.left_column, j.right, j.right_column) for j in spec.joins] == [
        ("stg_invoices", "account_key", "stg_accounts", "account_key")
    ]


def test_synonym_revenue_and_quarter_in_year(saas):
    spec = plan_offline("invoiced revenue by region per quarter in 2024", saas)
    assert measures(spec)[0][1:] == ("sum", "stg_invoices", "invoice_total")
    assert ("invoice_quarter", "stg_invoices", "issued_on", "quarter") in dims(spec)
    assert filters(spec) == [
        ("stg_invoices", "issued_on", ">=", ["2024-01-01"], "date"),
        ("stg_invoices", "issued_on", "<", ["2025-01-01"], "date"),
    ]


def test_value_with_whitespace_variant(saas):
    spec = plan_offline("average seats per plan tier for pro subscriptions", saas)
    assert measures(spec) == [("avg_seats", "avg", "stg_subscriptions", "seats")]
    assert filters(spec) == [("stg_subscriptions", "plan_tier", "in", ["pro", "Pro "], None)]


def test_boolean_flag_negated_and_entity_count(saas):
    spec = plan_offline("count of non escalated tickets by account industry", saas)
    assert measures(spec) == [("ticket_count", "count", "stg_tickets", None)]
    assert filters(spec) == [("stg_tickets", "is_escalated", "=", [False], None)]
    assert dims(spec) == [("account_industry", "stg_accounts", "industry", None)]


def test_entity_dimension_uses_the_fact_key_and_the_label(saas):
    spec = plan_offline("top 10 accounts by invoice total", saas)
    assert dims(spec) == [
        ("account_key", "stg_invoices", "account_key", None),
        ("account_name", "stg_accounts", "account_name", None),
    ]
    assert spec.limit == 10 and spec.order_by[0].column == "invoice_total"


def test_compound_word_and_table_qualifier(saas):
    spec = plan_offline("number of subscriptions by account signup month", saas)
    assert measures(spec) == [("subscription_count", "count", "stg_subscriptions", None)]
    assert dims(spec) == [("account_month", "stg_accounts", "signed_up_on", "month")]


def test_implicit_count_with_weekly_grain_and_value(saas):
    spec = plan_offline("urgent tickets per week", saas)
    assert measures(spec) == [("ticket_count", "count", "stg_tickets", None)]
    assert dims(spec) == [("ticket_week", "stg_tickets", "opened_at", "week")]
    assert filters(spec) == [("stg_tickets", "priority", "in", ["urgent"], None)]
    assert any("counting" in n for n in spec.notes)


def test_month_name_date(saas):
    spec = plan_offline("sum of tax amount by payment state since March 2024", saas)
    assert filters(spec) == [("stg_invoices", "issued_on", ">=", ["2024-03-01"], "date")]


def test_fan_out_in_this_domain(saas):
    with pytest.raises(PlanError, match="fan-out"):
        plan_offline("total mrr by ticket priority", saas)


def test_unplaced_word_in_this_domain(saas):
    with pytest.raises(UnplacedWordsError) as e:
        plan_offline("total mrr by segmnt", saas)
    assert list(e.value.unplaced) == ["segmnt"]


def test_determinism(saas):
    request = "number of escalated tickets by account industry per month in 2024"
    assert plan_offline(request, saas).model_dump_json() == plan_offline(request, saas).model_dump_json()


def test_table_word_qualifying_a_date_is_what_gets_counted(saas):
    # 'invoices issued per month': the table word qualifies the date column; with no other
    # measure, the rows of that table are counted.
    spec = plan_offline("invoices issued per month", saas)
    assert [(m.agg, m.input, m.column) for m in spec.measures] == [("count", "stg_invoices", None)]
    assert [(d.column, d.time_grain) for d in spec.dimensions] == [("issued_on", "month")]
    started = plan_offline("subscriptions started per quarter", saas)
    assert [(m.agg, m.input) for m in started.measures] == [("count", "stg_subscriptions")]
