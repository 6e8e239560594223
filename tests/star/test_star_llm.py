"""The llm star planner against a scripted OpenAI-compatible server (and litellm's mock)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakes.prompt_data import data_of, tables_of  # noqa: E402  (tests/ is on sys.path: conftest)
from martsmith.errors import LLMError  # noqa: E402
from martsmith.llm import client as llm_json  # noqa: E402
from martsmith.star.plan_llm import plan_star_llm, star_problems  # noqa: E402
from martsmith.star.spec import StarSpec  # noqa: E402

MODEL = "openai/fake-model"
DESCRIPTION = "order lines as the fact with products as a dimension"


def _col(name: str, source: str, data_type: str = "integer") -> dict:
    return {"name": name, "source_column": source, "data_type": data_type}


STAR = {
    "area": "sales",
    "source_name": "shop",
    "staging": [
        {
            "name": "stg_shop__order_items",
            "source_name": "shop",
            "table": "order_items",
            "key": "order_item_id",
            "columns": [
                _col("order_item_id", "id"),
                _col("order_id", "order_id"),
                _col("product_id", "product_id"),
                _col("quantity", "quantity"),
                _col("unit_price", "unit_price", "decimal(10,2)"),
            ],
        },
        {
            "name": "stg_shop__products",
            "source_name": "shop",
            "table": "products",
            "key": "product_id",
            "columns": [
                _col("product_id", "id"),
                _col("product_name", "name", "varchar"),
                _col("category", "category", "varchar"),
            ],
        },
    ],
    "dimensions": [
        {
            "name": "dim_product",
            "entity": "product",
            "base": "stg_shop__products",
            "natural_key": "product_id",
            "attributes": ["product_name", "category"],
        }
    ],
    "facts": [
        {
            "name": "fct_order_items",
            "process": "order_items",
            "base": "stg_shop__order_items",
            "grain": ["order_item_id"],
            "foreign_keys": [
                {"name": "product_key", "dimension": "dim_product", "input": "fact", "column": "product_id"}
            ],
            "measures": [{"name": "quantity", "column": "quantity"}],
        }
    ],
    "reasons": ["order_items: fact at the order line grain", "products: dimension dim_product"],
}


def answer(edit=None) -> str:
    star = copy.deepcopy(STAR)
    if edit:
        edit(star)
    return json.dumps(star)


def _unknown_column(star):
    star["facts"][0]["measures"][0]["column"] = "qty"
    star["staging"][1]["columns"][2]["source_column"] = "categ"


@pytest.fixture(autouse=True)
def server_env(monkeypatch):
    monkeypatch.setattr(llm_json, "RATE_LIMIT_BACKOFF", 0.01)
    for var in (llm_json.API_BASE_ENV, llm_json.API_KEY_ENV):
        monkeypatch.delenv(var, raising=False)


def plan(fake, catalog, **kw):
    return plan_star_llm(catalog, DESCRIPTION, model=MODEL, api_base=fake.url, api_key="test", timeout=5, **kw)


def test_valid_answer_becomes_a_star_spec(fake_llm, shop):
    fake_llm.queue(answer())
    star = plan(fake_llm, shop)
    assert isinstance(star, StarSpec)
    assert star.planner == f"llm:{MODEL}" and star.request == DESCRIPTION
    assert star.new_models == ["stg_shop__order_items", "stg_shop__products", "dim_product", "fct_order_items"]
    system, user = fake_llm.requests[0].messages
    assert '"facts"' in system["content"] and '"planner"' not in system["content"]
    tables = tables_of(user["content"])
    assert "source('shop', 'order_items')" in tables and {"request": DESCRIPTION} in data_of(user["content"])
    assert tables["source('shop', 'customers')"]["primary_key_unique"] is False  # late updates repeat the key
    assert "primary_key_unique" not in tables["source('shop', 'products')"]


def test_area_and_snowflake_flags_win(shop):
    star = plan_star_llm(
        shop, DESCRIPTION, model="openai/gpt-4.1-mini", area="retail", snowflake=True, mock_response=answer()
    )
    assert (star.area, star.snowflake) == ("retail", True)


def test_unknown_column_repaired_on_the_second_attempt(fake_llm, shop):
    bad = answer(_unknown_column)
    fake_llm.queue(bad, answer())
    star = plan(fake_llm, shop)
    assert star.facts[0].measures[0].column == "quantity"
    assert len(fake_llm.requests) == 2
    *_, echoed, repair = fake_llm.requests[1].messages
    assert echoed == {"role": "assistant", "content": bad}
    assert "column 'qty' does not exist in stg_shop__order_items" in repair["content"]
    assert "column 'categ' does not exist in source:shop.products" in repair["content"]
    assert "llm answer accepted after 2 calls" in star.notes


def test_semantic_checks(shop):
    def broken(star):
        star["dimensions"][0]["natural_key"] = "category"
        star["dimensions"].append(
            {"name": "dim_order", "entity": "order", "base": "stg_shop__orders", "natural_key": "order_id"}
        )
        star["staging"][0]["table"] = "line_items"
        star["facts"][0]["foreign_keys"].append(
            {
                "name": "order_date_key",
                "dimension": "dim_product",
                "input": "fact",
                "column": "order_id",
                "role": "date",
            }
        )

    star = StarSpec.model_validate(json.loads(answer(broken)))
    problems = "\n".join(star_problems(star, shop, "shop"))
    assert "source 'shop' has no table 'line_items'" in problems
    assert "'stg_shop__orders' is not a declared staging model" in problems
    assert "'category' is not the key of stg_shop__products (product_id)" in problems
    assert "a date key must point at the date dimension" in problems


def test_strict_spec_errors_are_fed_back(fake_llm, shop):
    def stray(star):
        star["colour"] = "blue"

    def unknown_dimension(star):
        star["facts"][0]["foreign_keys"][0]["dimension"] = "dim_item"

    fake_llm.queue(answer(stray), answer(unknown_dimension), answer())
    plan(fake_llm, shop)
    assert "unknown field 'colour'" in fake_llm.requests[1].messages[-1]["content"]
    assert "unknown dimension 'dim_item'" in fake_llm.requests[2].messages[-1]["content"]


def test_never_fixed_raises_llm_error(fake_llm, shop):
    bad = answer(_unknown_column)
    fake_llm.queue(bad, bad)
    with pytest.raises(LLMError) as info:
        plan(fake_llm, shop, max_attempts=2)
    assert len(fake_llm.requests) == 2 and info.value.exit_code == 5
    assert "no valid star schema spec in 2 attempt(s)" in info.value.message
    assert "column 'qty' does not exist" in info.value.message


def test_missing_key_names_the_variable(monkeypatch, shop):
    import litellm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(litellm, "completion", lambda *a, **k: pytest.fail("no call without a key"))
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        plan_star_llm(shop, DESCRIPTION, model="openai/gpt-4.1-mini")


def _tree(root: Path) -> dict[str, str]:
    skip = ("target", "logs", "dbt_packages")
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] not in skip
        and p.suffix != ".duckdb"
        and not p.name.endswith(".wal")
    }


def test_star_cli_with_llm_dry_run(sample_project: Path, fake_llm, monkeypatch):
    from martsmith import cli

    monkeypatch.setenv(llm_json.API_BASE_ENV, fake_llm.url)
    monkeypatch.setenv(llm_json.API_KEY_ENV, "test")
    where = ["--project-dir", str(sample_project), "--profiles-dir", str(sample_project)]
    before = _tree(sample_project)
    fake_llm.queue(answer())
    result = CliRunner().invoke(cli.main, ["star", DESCRIPTION, "--llm", "openai/fake", "--dry-run", *where])
    assert result.exit_code == 0, result.output
    assert "star schema 'sales'  (llm:openai/fake planner, source 'shop')" in result.output
    assert "models: stg_shop__order_items, stg_shop__products, dim_product, fct_order_items" in result.output
    assert "fct_order_items.sql (not written)" in result.output
    assert len(fake_llm.requests) == 1 and "source('shop', 'products')" in fake_llm.requests[0].text
    assert _tree(sample_project) == before

    fake_llm.queue(*[answer(_unknown_column)] * 3)
    failed = CliRunner().invoke(cli.main, ["star", DESCRIPTION, "--llm", "openai/fake", "--dry-run", *where])
    assert failed.exit_code == 5, failed.output
    assert "column 'qty' does not exist" in failed.output
    assert _tree(sample_project) == before
