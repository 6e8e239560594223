"""Rendered SQL, YAML and ERD of a planned star schema (golden-ish: the lines that matter)."""

from __future__ import annotations

from pathlib import Path

import yaml

from martsmith.star.erd import erd_mermaid
from martsmith.star.plan import plan_star
from martsmith.star.render import render_star
from tests.golden import assert_golden_tree
from tests.star.conftest import FakeProbe
from tests.star.test_plan import SALES


def _files(shop, **kw):
    return render_star(plan_star(shop, SALES, probe=FakeProbe(), **kw))


def test_layout_and_determinism(shop):
    files = _files(shop)
    assert "staging/shop/stg_shop__orders.sql" in files
    assert {
        "marts/sales/fct_order_items.sql",
        "marts/sales/dim_customer.yml",
        "marts/sales/dim_date.sql",
        "marts/sales/_sales__erd.md",
    } <= set(files)
    assert files == _files(shop)


def test_staging_dedupes_and_cleans(shop):
    sql = _files(shop)["staging/shop/stg_shop__customers.sql"]
    assert (
        "    {{ martsmith.deduplicate(\n"
        "        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'\n"
        "    ) }}"
    ) in sql  # the adapter's own dedupe; only the source's columns come out of it
    assert "id as customer_id" in sql and "lower(trim(country)) as country" in sql
    assert "qualify" not in sql and "strftime" not in sql
    assert sql.endswith("select * from renamed\n")


def test_dimension_has_surrogate_key_and_unknown_member(shop):
    sql = _files(shop)["marts/sales/dim_product.sql"]
    assert "{{ martsmith.surrogate_key(['products.product_id']) }} as product_key" in sql
    assert "union all" in sql and "{{ martsmith.surrogate_key(['null']) }} as product_key" in sql
    props = yaml.safe_load(_files(shop)["marts/sales/dim_product.yml"])["models"][0]
    assert props["columns"][0] == {
        "name": "product_key",
        "description": props["columns"][0]["description"],
        "data_tests": ["unique", "not_null"],
    }


def test_fact_coalesces_keys_and_tests_relationships(shop):
    files = _files(shop)
    sql = files["marts/sales/fct_order_items.sql"]
    assert "coalesce(dim_product.product_key, {{ martsmith.surrogate_key(['null']) }}) as product_key" in sql
    assert "on orders.customer_id = dim_customer.customer_id" in sql
    assert "coalesce({{ martsmith.date_key('orders.shipped_at') }}, -1) as ship_date_key" in sql
    cols = {c["name"]: c for c in yaml.safe_load(files["marts/sales/fct_order_items.yml"])["models"][0]["columns"]}
    assert cols["order_item_key"]["data_tests"] == ["unique", "not_null"]
    assert cols["customer_key"]["data_tests"][1] == {
        "relationships": {"arguments": {"to": "ref('dim_customer')", "field": "customer_key"}}
    }
    assert "{{ martsmith.date_spine('2024-01-01', '2026-01-01') }}" in files["marts/sales/dim_date.sql"]


def test_erd(shop):
    text = erd_mermaid(plan_star(shop, SALES, probe=FakeProbe(), snowflake=True))
    assert text.startswith("erDiagram\n")
    assert "        varchar order_item_key PK" in text and "        varchar customer_key FK" in text
    assert '    fct_order_items }o--|| dim_customer : "customer_key"' in text
    assert '    dim_product }o--|| dim_category : "category_key"' in text
    assert "decimal unit_price" in text  # decimal(10,2) is not a Mermaid type


# -- golden files: one layout, byte for byte --------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"


def _golden_files(shop) -> dict[str, str]:
    """The sales layout, snowflaked (dim_category), with measure tests and one data finding."""
    star = plan_star(shop, SALES, snowflake=True, probe=FakeProbe(minimums={"quantity": -1, "discount": 0.05}))
    return render_star(star)


def test_render_matches_golden(shop):
    """Set MARTSMITH_UPDATE_GOLDEN=1 to rewrite tests/star/golden/ after an intended change."""
    assert_golden_tree(GOLDEN, _golden_files(shop))


def test_long_select_items_are_laid_out_as_sqlfluff_would(tmp_path):
    # No layout fix needed means one sqlfluff pass per file, not two (the star build lints ~10).
    from martsmith.validate.lint import lint_sql

    for rel in ("marts/sales/fct_order_items.sql", "marts/sales/dim_product.sql"):
        result = lint_sql((GOLDEN / rel).read_text(), tmp_path, fname=Path(rel).name)
        assert (result.fixed, result.findings) == (False, []), rel


def test_long_select_items_are_wrapped_as_sqlfluff_would(billing):
    # One layout for models and stars (render/sql.py): no lint fix, so no second build.
    sql = render_star(plan_star(billing, None, source="billing", probe=FakeProbe()))["marts/core/fct_subscriptions.sql"]
    assert (
        "        coalesce(\n"
        "            dim_account.account_key, {{ martsmith.surrogate_key(['null']) }}\n"
        "        ) as account_key,\n"
    ) in sql or "coalesce(dim_account.account_key, {{ martsmith.surrogate_key(['null']) }}) as account_key" in sql
    assert "        coalesce({{ martsmith.date_key('subscriptions.started_on') }}, -1) as start_date_key,\n" in sql
    assert max(len(line) for line in sql.splitlines()) <= 100
