"""The plain-words rules grammar."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import ForeignKey
from martsmith.inference.rules import RulesError, assign_rules, parse_rules

from .conftest import catalog, col, table

ORDERS = table(
    "orders",
    [
        col("id", rows=10),
        col("customer_id", rows=10),
        col("amount", "DOUBLE", rows=10),
        col("status", "VARCHAR", rows=10),
        col("ordered_at", "TIMESTAMP", rows=10),
        col("shipped_at", "TIMESTAMP", rows=10),
    ],
)
CUSTOMERS = table("customers", [col("id", rows=10), col("email", "VARCHAR", rows=10)])
CAT = catalog(ORDERS, CUSTOMERS, fks=[ForeignKey(ORDERS.label, "customer_id", CUSTOMERS.label, "id")])


def rules(text):
    return [(s.name, s.column, s.arguments) for s in parse_rules(text, ORDERS, CAT)]


def test_the_example_from_the_issue():
    got = rules(
        "amount is never negative; status is one of placed, shipped, returned; "
        "every order has a customer; ship date is after order date"
    )
    assert got == [
        ("martsmith.not_negative", "amount", {}),
        ("accepted_values", "status", {"values": ["placed", "shipped", "returned"]}),
        ("not_null", "customer_id", {}),
        ("relationships", "customer_id", {"to": "source('shop', 'customers')", "field": "id"}),
        ("martsmith.expression_is_true", None, {"expression": "shipped_at >= ordered_at"}),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("amount is not negative", ("martsmith.not_negative", "amount", {})),
        ("Amount is positive.", ("martsmith.accepted_range", "amount", {"min_value": 0, "inclusive": False})),
        ("customer id is required", ("not_null", "customer_id", {})),
        ("the status is always present", ("not_null", "status", {})),
        ("ids are unique", ("unique", "id", {})),
        ("amount is between 0 and 10000", ("martsmith.accepted_range", "amount", {"min_value": 0, "max_value": 10000})),
        ("amount is at most 99.5", ("martsmith.accepted_range", "amount", {"max_value": 99.5})),
        (
            "shipped_at is before 2030-01-01",
            ("martsmith.expression_is_true", None, {"expression": "shipped_at <= '2030-01-01'"}),
        ),
        (
            "ship date is not before order date",
            ("martsmith.expression_is_true", None, {"expression": "shipped_at >= ordered_at"}),
        ),
        ("statuses are one of 'placed' or 'shipped'", ("accepted_values", "status", {"values": ["placed", "shipped"]})),
    ],
)
def test_forms(text, expected):
    assert rules(text) == [expected]


def test_unreadable_rule_names_it_and_the_forms():
    with pytest.raises(RulesError) as err:
        rules("amount is never negative; the moon is made of cheese")
    assert "'the moon is made of cheese'" in err.value.message
    assert "X is one of a, b, c" in err.value.hint


def test_unknown_column_names_closest():
    with pytest.raises(RulesError, match="no column of source:shop.orders matches 'amout'.*amount"):
        rules("amout is never negative")


def test_rules_go_to_the_node_they_name():
    out = assign_rules("email is unique; every order has a customer", [ORDERS, CUSTOMERS], CAT)
    assert [s.name for s in out[CUSTOMERS.label]] == ["unique"]
    assert [s.name for s in out[ORDERS.label]] == ["not_null", "relationships"]


def test_llm_rules_need_a_key(monkeypatch):
    # --llm now reads rules through litellm (tests/inference/test_rules_llm.py); without a key
    # it stops before any request, naming the variable to set.
    from martsmith.errors import LLMError

    for var in ("OPENAI_API_KEY", "MARTSMITH_LLM_API_KEY", "MARTSMITH_LLM_API_BASE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        parse_rules("amount is never negative", ORDERS, CAT, llm_model="openai/gpt-4.1-mini")
