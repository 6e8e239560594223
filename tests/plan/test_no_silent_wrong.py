"""Metamorphic checks of the offline planner: a word that changes the meaning never vanishes.

A negated request must plan differently from the plain one or be refused; a negation the
planner cannot apply is a refusal, never the un-negated model built with exit 0.
"""

from __future__ import annotations

import pytest

from martsmith.errors import PlanError
from martsmith.plan.offline import plan_offline


def _plan_or_refusal(request, catalog):
    try:
        return plan_offline(request, catalog).model_dump(exclude={"request", "name", "description", "notes"})
    except PlanError as exc:
        return f"refused: {exc.message}"


@pytest.mark.parametrize(
    "plain, negated",
    [
        ("number of orders per status", "number of orders per status, excluding cancelled orders"),
        ("number of customers", "number of customers without orders"),
        ("number of products", "number of products that have no order items"),
        ("total amount by country", "total amount by country other than Germany"),
    ],
)
def test_negating_a_request_changes_the_plan_or_refuses(shop, plain, negated):
    a, b = _plan_or_refusal(plain, shop), _plan_or_refusal(negated, shop)
    assert not (isinstance(a, str) and a.startswith("refused")), a
    assert a != b


@pytest.mark.parametrize(
    "request_, related",
    [
        ("number of customers without orders", "orders"),
        ("number of products that have no order items", "order_items"),
    ],
)
def test_a_negated_relationship_is_a_not_exists(shop, request_, related):
    spec = plan_offline(request_, shop)
    assert [(e.input, e.negated) for e in spec.exists] == [(related, True)]
    assert [m.agg for m in spec.measures] == ["count"]
    assert related not in {j.right for j in spec.joins}  # read in the exists only: no fan-out


@pytest.mark.parametrize("request_", ["orders that are not", "products that are not"])
def test_a_negation_with_nothing_to_negate_is_refused(shop, request_):
    with pytest.raises(PlanError) as info:
        plan_offline(request_, shop)
    assert "never drops" in info.value.message or "could not place" in info.value.message


def test_an_applied_negation_is_in_the_plan(shop):
    spec = plan_offline("number of orders per status, excluding cancelled orders", shop)
    assert any(f.op in ("!=", "not in") for f in spec.filters)


@pytest.mark.parametrize("request_", ["cancelled orders", "orders placed in 2024", "garden products"])
def test_a_listing_lists_rows_not_a_count(shop, request_):
    spec = plan_offline(request_, shop)
    assert spec.kind == "listing" and spec.measures == [] and spec.filters
    assert spec.dimensions  # the entity's key and label


@pytest.mark.parametrize("request_", ["number of cancelled orders", "how many orders in 2024"])
def test_a_count_is_still_a_count(shop, request_):
    spec = plan_offline(request_, shop)
    assert [m.agg for m in spec.measures] == ["count"]
