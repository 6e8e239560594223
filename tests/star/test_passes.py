"""The star planner's passes, each on a StarPlan built by hand (or by the passes before it)."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import ForeignKey
from martsmith.errors import PlanError
from martsmith.star import facts as fp
from martsmith.star import plan as sp
from martsmith.star.state import StarPlan
from tests.star.conftest import FakeProbe, catalog, source


def _plan(cat, src, description=None, **kw) -> StarPlan:
    _, tables = sp.source_tables(cat, src)
    return StarPlan(catalog=cat, source=src, tables=tables, description=description, **kw)


def _run(plan: StarPlan, upto) -> StarPlan:
    """The passes of PASSES before `upto` (the state a pass finds in plan_star)."""
    for p in sp.PASSES[: sp.PASSES.index(upto)]:
        plan = p(plan)
    return plan


def test_the_pipeline_is_a_tuple_of_passes_ending_with_the_spec():
    assert sp.PASSES[0] is sp.check_key_names and sp.PASSES[-2:] == (sp.assemble, sp.measure_tests)
    assert fp.FACT_PASSES[0] is fp.fold_headers


def test_foreign_keys_drops_what_the_data_refutes(billing):
    plan = sp.foreign_keys(_plan(billing, "billing", probe=FakeProbe(containment=0.3)))
    assert plan.fks == []
    assert any("only 30% of its distinct values are there: not used" in n for n in plan.notes)
    plan = sp.foreign_keys(_plan(billing, "billing", probe=FakeProbe(containment=0.99)))
    assert {fk.column for fk in plan.fks} == {"account_id", "plan_id"}
    assert any("1.0% of its distinct values are missing" in n for n in plan.notes)


def test_link_request_reads_the_fact_dimensions_dates_and_area(shop):
    plan = sp.link_request(_plan(shop, "shop", "sales star: order lines as the fact with products"))
    assert plan.named_fact.name == "order_items" and [t.name for t in plan.named_dims] == ["products"]
    assert (plan.want_dates, plan.area_word) == (False, "sales")
    untouched = sp.link_request(_plan(shop, "shop"))
    assert untouched.named_dims is None and untouched.want_dates


def test_acyclic_names_the_cycle_and_a_named_fact_breaks_it():
    cat = catalog(
        source("teams", {"id": "INTEGER", "captain_id": "INTEGER", "budget": "DOUBLE"}, src="s", rows=10),
        source("captains", {"id": "INTEGER", "team_id": "INTEGER", "salary": "DOUBLE"}, src="s", rows=10),
    )
    with pytest.raises(PlanError, match="form a cycle"):
        sp.acyclic(sp.foreign_keys(_plan(cat, "s")))
    plan = sp.foreign_keys(_plan(cat, "s"))
    plan.named_fact = plan.by_label["source:s.teams"]
    plan = sp.acyclic(plan)
    assert [(fk.table, fk.column) for fk in plan.fks] == [("source:s.teams", "captain_id")]


def test_acyclic_leaves_out_hierarchies():
    cat = catalog(source("employees", {"id": "INTEGER", "salary": "DOUBLE"}, src="h", rows=10))
    cat.foreign_keys.append(ForeignKey("source:h.employees", "manager_id", "source:h.employees", "id", "declared"))
    plan = sp.acyclic(sp.foreign_keys(_plan(cat, "h")))
    assert plan.fks == [] and plan.notes == [
        "employees.manager_id points at its own table (a hierarchy): not used as a key"
    ]


def test_fact_candidates_says_why_the_others_are_not(shop):
    plan = sp.fact_candidates(_run(_plan(shop, "shop"), sp.fact_candidates))
    assert [t.name for t in plan.candidates] == ["order_items"]
    assert "orders: other tables point at it (order_items), so it is not the finest grain" in plan.rejected


def test_choose_facts_takes_the_candidate_that_reaches_the_named_dimensions(shop):
    plan = sp.choose_facts(_run(_plan(shop, "shop", "products and customers"), sp.choose_facts))
    assert [t.name for t in plan.fact_tables] == ["order_items"]
    empty = _plan(shop, "shop")
    with pytest.raises(PlanError, match="no plausible fact"):
        sp.choose_facts(empty)


def test_fold_headers_carries_the_header_keys_down(shop):
    plan = _run(_plan(shop, "shop", probe=FakeProbe()), sp.draft_facts)
    draft = fp.fold_headers(plan, fp.draft_fact(plan, plan.fact_tables[0]))
    assert [p.alias for p in draft.fact.parents] == ["orders"]
    assert [(alias, fk.column) for alias, fk in draft.targets] == [("fact", "product_id"), ("orders", "customer_id")]
    assert [k.name for k in draft.fact.foreign_keys] == ["order_date_key", "ship_date_key"]
    assert any(n.startswith("orders measures (amount) are at the order grain") for n in plan.notes)


def test_dimension_keys_name_keys_after_their_roles():
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
    plan = _run(_plan(cat, "m"), sp.draft_facts)
    draft = fp.dimension_keys(plan, fp.draft_fact(plan, plan.fact_tables[0]))
    assert [(k.name, k.dimension) for k in draft.fact.foreign_keys] == [
        ("buyer_key", "dim_user"),
        ("seller_key", "dim_user"),
    ]
    assert list(plan.dims) == ["dim_user"]


def test_measures_get_their_additivity(shop):
    plan = _run(_plan(shop, "shop"), sp.draft_facts)
    draft = fp.measures(plan, fp.draft_fact(plan, plan.fact_tables[0]))
    assert {m.name: m.additivity for m in draft.fact.measures} == {
        "quantity": "additive",
        "unit_price": "non_additive",
        "discount": "non_additive",
    }


def test_date_dimension_without_a_probe_says_the_range_was_not_checked(billing):
    plan = sp.date_dimension(_run(_plan(billing, "billing"), sp.date_dimension))
    assert (plan.date_dimension.start_date, plan.date_dimension.end_date) == ("2000-01-01", "2031-01-01")
    assert "dim_date covers 2000-2030: the data's date range was not checked" in plan.notes
    assert plan.reasons[-1].endswith("role-playing for start_date_key")


def test_snowflake_makes_each_outrigger_a_dimension(billing):
    plan = sp.snowflake(_run(_plan(billing, "billing", snowflake=True), sp.snowflake))
    assert [d.name for d in plan.dimensions] == ["dim_account", "dim_plan", "dim_segment"]
    assert plan.dimensions[-1].distinct_of == "segment"
