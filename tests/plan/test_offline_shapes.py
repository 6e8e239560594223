"""The offline planner on each analytic shape, over the shop catalog: the spec it builds (what
the renderer and golden tests then prove) and the metamorphic properties that keep it honest —
negating changes the plan, an unknown word refuses, rewording that keeps the meaning keeps the
plan, and every reading is a note."""

from __future__ import annotations

import pytest

from martsmith.errors import PlanError, UnplacedWordsError
from martsmith.plan.offline import plan_offline


def _plan(catalog, request):
    return plan_offline(request, catalog)


def test_listing_with_order(shop):
    spec = _plan(shop, "names and prices of products ordered by price descending")
    assert spec.kind == "listing" and not spec.measures
    assert [d.column for d in spec.dimensions] == ["name", "price"]
    assert [(o.column, o.direction) for o in spec.order_by] == [("price", "desc")]
    assert spec.surrogate_key is None


def test_alphabetical_order_sorts_the_label(shop):
    spec = _plan(shop, "product names in alphabetical order")
    assert [(o.column, o.direction) for o in spec.order_by] == [(spec.dimensions[0].name, "asc")]


def test_distinct_listing(shop):
    spec = _plan(shop, "all distinct countries of customers")
    assert spec.kind == "listing" and spec.distinct
    assert [d.column for d in spec.dimensions] == ["country"]


def test_superlative_is_one_row_not_an_aggregate(shop):
    spec = _plan(shop, "the name of the product with the highest price")
    assert spec.kind == "listing" and spec.limit == 1 and not spec.measures
    assert [(o.column, o.direction) for o in spec.order_by] == [("price", "desc")]
    assert any("one row" in n for n in spec.notes)


def test_lowest_flips_the_direction(shop):
    spec = _plan(shop, "the name of the product with the lowest price")
    assert [(o.column, o.direction) for o in spec.order_by] == [("price", "asc")]


def test_most_counts_and_keeps_the_top_one(shop):
    spec = _plan(shop, "the customer with the most orders")
    assert spec.kind == "aggregate" and spec.limit == 1
    assert [m.agg for m in spec.measures] == ["count"]
    assert spec.order_by[0].column == spec.measures[0].name and spec.order_by[0].direction == "desc"
    assert {d.input for d in spec.dimensions} >= {"orders"} or spec.dimensions


def test_having_filters_after_grouping(shop):
    spec = _plan(shop, "customers with at least 3 orders")
    assert [(h.op, h.values) for h in spec.having] == [(">=", [3])]
    assert spec.having[0].column == spec.measures[0].name
    assert not spec.filters  # never a row filter on a column


def test_counting_groups_that_pass_a_having_is_refused(shop):
    with pytest.raises(PlanError, match="two levels"):
        _plan(shop, "number of customers with at least 3 orders")


def test_not_exists(shop):
    spec = _plan(shop, "customers who never placed an order")
    assert spec.kind == "listing"
    assert [(e.input, e.column, e.negated) for e in spec.exists] == [("orders", "customer_id", True)]
    assert not spec.joins


def test_multiple_aggregates_of_one_column(shop):
    spec = _plan(shop, "average, minimum and maximum order amount")
    assert sorted(m.agg for m in spec.measures) == ["avg", "max", "min"]
    assert {m.column for m in spec.measures} == {"amount"}


def test_running_total(shop):
    spec = _plan(shop, "running total of order amount by month")
    (w,) = spec.windows
    assert w.function == "running_total" and w.column == spec.measures[0].name
    assert w.order_by == next(d.name for d in spec.dimensions if d.time_grain == "month")


def test_change_from_previous_period_is_not_a_relative_date(shop):
    spec = _plan(shop, "total order amount per month and the change from the previous month")
    assert [w.function for w in spec.windows] == ["change"]
    assert not spec.filters


def test_moving_average_brings_its_grain(shop):
    spec = _plan(shop, "3 month moving average of the number of orders")
    (w,) = spec.windows
    assert (w.function, w.periods) == ("moving_average", 3)
    assert [d.time_grain for d in spec.dimensions] == ["month"]


def test_rank_within_a_partition(shop):
    spec = _plan(shop, "rank products within each category by quantity")
    (w,) = spec.windows
    assert w.function == "rank" and w.direction == "desc"
    part = {d.name: d for d in spec.dimensions}
    assert [part[p].column for p in w.partition_by] == ["category"]


def test_pivot_reads_the_values_from_the_catalog(shop):
    spec = _plan(shop, "number of payments per month with one column per method")
    assert spec.pivot is not None and spec.pivot.column == "method"
    assert spec.pivot.values == ["bank_transfer", "credit_card", "gift_card", "paypal"]
    assert any("values_in" in n for n in spec.notes)


def test_share_is_a_conditional_count_over_the_count(shop):
    spec = _plan(shop, "share of orders that are cancelled")
    part, total = spec.measures
    assert part.where and part.where[0].values == ["cancelled"] and not total.where
    assert (spec.ratios[0].numerator, spec.ratios[0].denominator) == (part.name, total.name)
    assert not spec.filters  # the condition is the part's, never a filter on every row


def test_percentage_multiplies_by_100(shop):
    spec = _plan(shop, "percentage of orders that are cancelled")
    assert spec.ratios[0].percent


def test_latest_per_key(shop):
    spec = _plan(shop, "the latest order for each customer")
    assert spec.kind == "listing"
    assert spec.inputs[0].dedupe_key == ["customer_id"] and spec.inputs[0].dedupe_order_by == "ordered_at"


def test_comparative_implies_its_column(shop):
    spec = _plan(shop, "how many products are cheaper than 10")
    assert [(f.column, f.op, f.values) for f in spec.filters] == [("price", "<", [10])]


def test_comparison_before_its_column(shop):
    spec = _plan(shop, "number of products with a price above 10")
    assert [(f.column, f.op, f.values) for f in spec.filters] == [("price", ">", [10])]


def test_negated_event_verb_of_another_table_is_not_exists(shop):
    spec = _plan(shop, "orders that were never paid")
    assert [(e.input, e.negated) for e in spec.exists] == [("payments", True)]


def test_a_verb_that_is_also_a_value_reads_as_the_relationship(shop):
    spec = _plan(shop, "number of orders placed since 2024-01-01")
    assert [f.column for f in spec.filters] == ["ordered_at"]  # never status = 'placed'
    assert _plan(shop, "number of placed orders").filters[0].column == "status"


# -- metamorphic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plain, negated",
    [
        ("customers who placed an order", "customers who never placed an order"),
        ("orders that were paid", "orders that were never paid"),
        ("names of products that are active", "names of products that are not active"),
    ],
)
def test_negating_changes_the_plan(shop, plain, negated):
    def dump(r):
        try:
            return _plan(shop, r).model_dump(exclude={"request", "description", "notes", "name"})
        except PlanError as e:
            return f"refused: {e.message}"

    assert dump(plain) != dump(negated)


@pytest.mark.parametrize(
    "request_",
    ["names of products ordered by price", "customers with at least 3 orders", "running total of orders by month"],
)
def test_an_unknown_word_refuses(shop, request_):
    with pytest.raises((UnplacedWordsError, PlanError)):
        _plan(shop, request_ + " flibbertigibbet")


@pytest.mark.parametrize(
    "a, b",
    [
        ("names and prices of products ordered by price", "product names and prices sorted by price"),
        ("number of orders by status", "order count per status"),
        ("customers with at least 3 orders", "customers that have at least 3 orders"),
    ],
)
def test_rewording_keeps_the_plan(shop, a, b):
    def core(spec):
        return spec.model_dump(exclude={"request", "description", "notes", "name", "surrogate_key"})

    assert core(_plan(shop, a)) == core(_plan(shop, b))


def _readme_examples() -> list[str]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = text[text.index("| shape | example request |") : text.index("The base (fact) table is")]
    rows = [row for row in table.splitlines()[2:] if row.startswith("|")]
    return [r for row in rows for r in re.findall(r"`([^`]+)`", row.split("|")[2])]


@pytest.mark.parametrize("request_", _readme_examples())
def test_every_readme_shape_example_plans_on_the_shop(shop, request_):
    spec = _plan(shop, request_)
    assert spec.dimensions or spec.measures


@pytest.mark.parametrize(
    "request_, bounds",
    [
        ("number of orders in the last 30 days", [(">=", "day", -30, False)]),
        ("total order amount this month", [(">=", "month", 0, True)]),
        ("number of orders last month by status", [(">=", "month", -1, True), ("<", "month", 0, True)]),
        ("number of orders yesterday", [(">=", "day", -1, True), ("<", "day", 0, True)]),
    ],
)
def test_relative_dates_are_relative_to_the_run_date(shop, request_, bounds):
    spec = _plan(shop, request_)
    got = [(f.op, f.relative.grain, f.relative.offset, f.relative.period_start) for f in spec.filters if f.relative]
    assert got == bounds
    assert "current_date" in spec.description


@pytest.mark.parametrize("request_", ["number of orders recently", "orders as of now"])
def test_vague_relative_dates_refuse(shop, request_):
    with pytest.raises(PlanError):
        _plan(shop, request_)


def test_relative_date_sql_is_cross_database(shop):
    from martsmith.render.sql import render_sql
    from martsmith.validate.jinja_allowlist import check_sql_jinja

    sql = render_sql(_plan(shop, "number of orders last month by status"))
    assert "{{ dbt.dateadd('month', -1, \"cast(date_trunc('month', current_date) as date)\") }}" in sql
    assert check_sql_jinja(sql) == []


def test_mixed_grain_aggregates_each_table_before_the_join(saas):
    from martsmith.render.sql import render_sql

    spec = _plan(saas, "number of tickets and total invoice total per account")
    pre = {i.alias: i for i in spec.inputs if i.aggregates}
    assert sorted(pre) == ["stg_invoices_by_account", "stg_tickets_by_account"]
    assert all(i.group_by == ["account_key"] for i in pre.values())
    assert {j.right for j in spec.joins} == set(pre)  # joined one-to-one: no fan-out
    sql = render_sql(spec)
    assert "group by 1" in sql.split("aggregated as")[0]  # the inputs are aggregated first
    assert any("different grains" in n for n in spec.notes)


def test_mixed_grain_without_the_entity_key_is_still_refused(saas):
    with pytest.raises(PlanError):
        _plan(saas, "number of tickets and total invoice total per region")


def test_contractions_negate(shop):
    spec = _plan(shop, "customers who don't have any orders")
    assert [(e.input, e.negated) for e in spec.exists] == [("orders", True)]


def test_a_hyphenated_no_is_not_a_negation():
    from martsmith.plan.cues import find_cues
    from martsmith.plan.tokens import tokenize

    assert not find_cues(tokenize("share of appointments that were no-shows")).negations
    assert find_cues(tokenize("orders with no payments")).negations


def test_n_or_more_is_at_least(shop):
    spec = _plan(shop, "customers with 3 or more orders")
    assert [(h.op, h.values) for h in spec.having] == [(">=", [3])]


def test_superlative_first_orders_every_row(shop):
    spec = _plan(shop, "names and prices of products, cheapest first")
    assert spec.kind == "listing" and spec.limit is None
    assert [(o.column, o.direction) for o in spec.order_by] == [("price", "asc")]


def test_compared_with_the_month_before_is_a_change(shop):
    spec = _plan(shop, "total order amount per month compared with the month before")
    assert [w.function for w in spec.windows] == ["change"]


def test_total_of_a_table_sums_its_one_amount(shop):
    spec = _plan(shop, "total orders by status")
    assert [(m.agg, m.column) for m in spec.measures] == [("sum", "amount")]
    assert any("read as the sum of" in n for n in spec.notes)


def test_total_of_a_table_with_several_amounts_refuses(saas):
    with pytest.raises(PlanError, match="which amount"):
        _plan(saas, "total invoices by account")


def test_comparing_two_columns_refuses(shop):
    with pytest.raises(PlanError, match="compares two columns"):
        _plan(shop, "orders whose shipped date is different from their order date")


def test_a_number_that_counts_the_next_word_is_not_a_comparison_of_the_table_before(shop):
    # 'at least one' counts the value after it: never a filter on a numeric column of orders.
    with pytest.raises(PlanError):
        _plan(shop, "customers who have at least one cancelled order")
