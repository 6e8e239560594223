"""SCD type 2 dimensions (`--scd2 ENTITY`): planning and rendering, no warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from martsmith.errors import PlanError, UsageError
from martsmith.star.erd import erd_mermaid
from martsmith.star.plan import plan_star
from martsmith.star.render import render_star
from martsmith.star.scd2 import make_type2
from tests.star.conftest import FakeProbe
from tests.star.test_plan import SALES


def _star(shop, *entities, **kw):
    return make_type2(plan_star(shop, SALES, probe=FakeProbe(), **kw), list(entities))


def test_plan_makes_customer_type2_with_the_event_time_of_the_fact(shop):
    star = _star(shop, "customer")
    dims = {d.name: d for d in star.dimensions}
    assert (dims["dim_customer"].scd_type, dims["dim_customer"].versioned_by) == (2, "updated_at")
    assert dims["dim_product"].scd_type == 1
    stg = star.staging_model("stg_shop__customers")
    assert stg.keep_versions and stg.dedupe
    assert not star.staging_model("stg_shop__orders").keep_versions
    (fk,) = [fk for fk in star.facts[0].foreign_keys if fk.dimension == "dim_customer"]
    assert (fk.as_of.input, fk.as_of.column) == ("orders", "ordered_at")  # the order time, not shipped_at
    assert any(r.startswith("dim_customer: SCD type 2 from the versions in customers") for r in star.reasons)
    assert (
        "stg_shop__customers: customers.id repeats (late-arriving updates): keeps every version "
        "(dim_customer is type 2), dated by updated_at" in star.notes
    )
    assert _star(shop, "customers", "dim_customer") == star  # any spelling, once


def test_unknown_entity_and_entity_without_history_are_refused(shop):
    with pytest.raises(UsageError) as exc:
        _star(shop, "supplier")
    assert exc.value.exit_code == 2
    assert "--scd2 supplier: the layout has no dimension 'supplier'." == exc.value.message
    assert "Planned dimensions: product, customer." in exc.value.hint
    with pytest.raises(PlanError) as exc:
        _star(shop, "product")
    assert exc.value.exit_code == 2
    assert exc.value.message == (
        "dim_product can't be type 2: products carries no history (no updated_at-like "
        "column (updated_at, modified_at, ...) to date versions by)."
    )
    assert "dbt snapshot of stg_shop__products" in exc.value.hint


def test_default_path_is_untouched(shop):
    assert render_star(plan_star(shop, SALES, probe=FakeProbe())) == render_star(_star(shop))


def test_staging_keeps_every_version(shop):
    files = render_star(_star(shop, "customer"))
    sql = files["staging/shop/stg_shop__customers.sql"]
    assert "    select distinct\n        id as customer_id," in sql
    assert "qualify" not in sql
    props = yaml.safe_load(files["staging/shop/stg_shop__customers.yml"])["models"][0]
    assert props["data_tests"] == [
        {
            "martsmith.unique_combination_of_columns": {
                "arguments": {"combination_of_columns": ["customer_id", "updated_at"]}
            }
        }
    ]
    assert props["columns"][0]["data_tests"] == ["not_null"]


def test_type2_dimension_sql_and_tests(shop):
    files = render_star(_star(shop, "customer"))
    sql = files["marts/sales/dim_customer.sql"]
    assert (
        "{{ martsmith.surrogate_key(['versions.customer_id', 'versions.valid_from']) }}\n            as customer_key"
        in sql
    )
    assert "window history as (partition by customers.customer_id order by customers.updated_at)" in sql
    assert "when row_number() over history = 1\n                then cast('1900-01-01' as timestamp)" in sql
    assert (
        "lead(customers.updated_at) over history,\n            cast('9999-12-31' as timestamp)\n        ) as valid_to"
        in sql
    )
    assert "lead(customers.updated_at) over history is null as is_current" in sql
    assert "cast('9999-12-31' as timestamp) as valid_to,\n        true as is_current" in sql  # the unknown member
    props = yaml.safe_load(files["marts/sales/dim_customer.yml"])["models"][0]
    assert props["data_tests"] == [
        {
            "martsmith.unique_combination_of_columns": {
                "arguments": {"combination_of_columns": ["customer_id", "valid_from"]}
            }
        }
    ]
    cols = {c["name"]: c.get("data_tests") for c in props["columns"]}
    assert cols["customer_key"] == ["unique", "not_null"]
    assert cols["customer_id"] == [{"unique": {"config": {"where": "is_current"}}}]
    assert cols["valid_from"] == cols["valid_to"] == cols["is_current"] == ["not_null"]


def test_fact_picks_the_version_valid_at_the_order_time(shop):
    sql = render_star(_star(shop, "customer"))["marts/sales/fct_order_items.sql"]
    assert (
        "    left join dim_customer\n        on orders.customer_id = dim_customer.customer_id\n"
        "            and orders.ordered_at >= dim_customer.valid_from\n"
        "            and orders.ordered_at < dim_customer.valid_to\n"
    ) in sql
    assert "    left join dim_product\n        on order_items.product_id = dim_product.product_id\n" in sql


def test_erd_shows_the_validity_columns(shop):
    text = erd_mermaid(_star(shop, "customer"))
    block = text.split("    dim_customer {\n")[1].split("    }")[0]
    assert block.splitlines()[-4:] == [
        "        timestamp updated_at",
        "        timestamp valid_from",
        "        timestamp valid_to",
        "        boolean is_current",
    ]


def test_type2_files_need_no_lint_fix(shop, tmp_path):
    from martsmith.validate.lint import lint_sql

    files = render_star(_star(shop, "customer"))
    for rel in (
        "marts/sales/dim_customer.sql",
        "marts/sales/fct_order_items.sql",
        "staging/shop/stg_shop__customers.sql",
    ):
        result = lint_sql(files[rel], tmp_path, fname=Path(rel).name)
        assert (result.fixed, result.findings) == (False, []), (rel, result.findings)
