"""Tokens, cues, schema linking and join paths of the offline planner, one stage at a time."""

from __future__ import annotations

import pytest

from martsmith.errors import PlanError
from martsmith.plan.cues import find_cues
from martsmith.plan.joins import shortest_paths
from martsmith.plan.lexicon import stem
from martsmith.plan.linking import build_index, closest, link
from martsmith.plan.tokens import tokenize


def linked(request, catalog):
    cues = find_cues(tokenize(request))
    return [(l.text, sorted(c.item.describe() for c in l.candidates)) for l in link(cues, build_index(catalog))]


@pytest.mark.parametrize(
    "a,b",
    [
        ("completed", "complete"),
        ("shipped", "ship"),
        ("orders", "ordered"),
        ("categories", "category"),
        ("cancelled", "canceled"),
        ("paid", "pay"),
    ],
)
def test_stem_meets_inflections(a, b):
    assert stem(a) == stem(b)


def test_tokenize_literals_numbers_dates():
    toks = tokenize('customer\'s amount >= 1,500 since 2024-02 and status "On Hold" over 5k')
    assert [(t.kind, t.text) for t in toks] == [
        ("word", "customer"),
        ("word", "amount"),
        ("op", ">="),
        ("number", "1500"),
        ("word", "since"),
        ("date", "2024-02"),
        ("word", "and"),
        ("word", "status"),
        ("quoted", "On Hold"),
        ("word", "over"),
        ("number", "5000"),
    ]


def test_cues():
    c = find_cues(tokenize("top 3 cities by average amount between 2023 and 2024, not returned"))
    assert c.top.limit == 3
    assert [(d.op, d.start.isoformat(), d.end.isoformat()) for d in c.dates] == [("range", "2023-01-01", "2025-01-01")]
    assert list(c.aggs.values()) == ["avg"]
    assert c.negations


@pytest.mark.parametrize(
    "phrase, relative",
    [
        ("last 30 days", (("day", -30, False), None)),
        ("this month", (("month", 0, True), None)),
        ("yesterday", (("day", -1, True), ("day", 0, True))),
        ("past 2 quarters", (("quarter", -2, False), None)),
    ],
)
def test_relative_dates_are_bounds_on_the_run_date(phrase, relative):
    (cue,) = find_cues(tokenize(f"orders {phrase}")).dates
    assert cue.relative == relative and cue.start is None


@pytest.mark.parametrize("phrase", ["recently", "as of now"])
def test_vague_relative_dates_raise(phrase):
    with pytest.raises(PlanError, match="vague"):
        find_cues(tokenize(f"orders {phrase}"))


def test_multiword_names_qualifiers_and_values(shop):
    assert linked("customer first name", shop) == [("customer first name", ["customers.first_name"])]
    assert linked("order date", shop) == [("order date", ["orders.ordered_at"])]
    assert linked("order lines", shop) == [("order lines", ["order_items"])]
    assert linked("completed", shop) == [("completed", ["orders.status = 'completed'"])]
    assert linked("amount", shop) == [("amount", ["orders.amount", "payments.amount"])]


def test_synonyms_rank_after_own_words(shop):
    (l,) = link(find_cues(tokenize("revenue")), build_index(shop))
    assert l.candidates[0].item.describe() == "orders.amount"


def test_closest_names(shop):
    assert closest("emial", build_index(shop))[0] == "customers.email"


def test_shortest_paths_follow_many_to_one_only(shop):
    paths = shortest_paths(shop, "source:shop.order_items")
    assert [e.column for e in paths["source:shop.customers"][0]] == ["order_id", "customer_id"]
    assert "source:shop.payments" not in paths  # payments -> orders is one-to-many from items
    assert set(shortest_paths(shop, "source:shop.customers")) == {"source:shop.customers"}
