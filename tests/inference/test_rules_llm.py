"""Rules read by an LLM (`--rules ... --llm MODEL`) against a scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakes.prompt_data import data_of, tables_of  # noqa: E402  (tests/ is on sys.path: conftest)
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table  # noqa: E402
from martsmith.errors import LLMError  # noqa: E402
from martsmith.inference.rules import parse_rules  # noqa: E402
from martsmith.inference.rules_llm import assign_rules_llm  # noqa: E402
from martsmith.llm import client as llm_json  # noqa: E402

MODEL = "openai/fake-model"
ORDERS = Table(
    "source",
    "orders",
    "raw",
    "orders",
    source_name="shop",
    primary_key="id",
    columns=[
        Column("id", "INTEGER"),
        Column("customer_id", "INTEGER"),
        Column("amount", "DECIMAL(12,2)"),
        Column("status", "VARCHAR", "Order status.", values=["placed", "shipped"]),
        Column("ordered_at", "TIMESTAMP"),
        Column("shipped_at", "TIMESTAMP"),
    ],
)
CUSTOMERS = Table(
    "source",
    "customers",
    "raw",
    "customers",
    source_name="shop",
    columns=[Column("id", "INTEGER"), Column("country", "VARCHAR")],
)
CAT = Catalog([ORDERS, CUSTOMERS], [ForeignKey(ORDERS.label, "customer_id", CUSTOMERS.label, "id")])
RULES = "amounts may never go below zero; shipping happens after ordering; each order belongs to a customer"


def answer(*tests: dict) -> str:
    return json.dumps({"tests": list(tests)})


GOOD = answer(
    {"rule": 1, "name": "martsmith.not_negative", "column": "amount"},
    {"rule": 2, "name": "expression_is_true", "column": None, "arguments": {"expression": "shipped_at >= ordered_at"}},
    {
        "rule": 3,
        "name": "relationships",
        "column": "customer_id",
        "arguments": {"to": "source('shop', 'customers')", "field": "id"},
    },
)


@pytest.fixture(autouse=True)
def server_env(monkeypatch):
    monkeypatch.setattr(llm_json, "RATE_LIMIT_BACKOFF", 0.01)
    for var in (llm_json.API_BASE_ENV, llm_json.API_KEY_ENV):
        monkeypatch.delenv(var, raising=False)


def read(fake, text: str = RULES, **kw):
    rules = [r.strip() for r in text.split(";")]
    return assign_rules_llm(rules, [ORDERS], CAT, model=MODEL, api_base=fake.url, api_key="test", timeout=5, **kw)


def test_valid_answer_becomes_test_specs(fake_llm):
    fake_llm.queue(GOOD)
    tests = read(fake_llm)[ORDERS.label]
    assert [(t.name, t.column) for t in tests] == [
        ("martsmith.not_negative", "amount"),
        ("martsmith.expression_is_true", None),
        ("relationships", "customer_id"),
    ]
    assert tests[1].arguments == {"expression": "shipped_at >= ordered_at"}
    assert tests[0].reason == "rule (llm): amounts may never go below zero"
    system, user = fake_llm.requests[0].messages
    assert "martsmith.accepted_range [column]: min_value?, max_value?, inclusive?" in system["content"]
    assert "relationships_where" in system["content"] and "combination_of_columns" in system["content"]
    data = data_of(user["content"])
    assert {"rule": 1, "text": "amounts may never go below zero"} in data
    tables = tables_of(user["content"])
    orders = tables["source('shop', 'orders')"]
    assert orders["label"] == "source:shop.orders"
    status = next(c for c in orders["columns"] if c["name"] == "status")
    assert status["values"] == ["placed", "shipped"] and status["description"] == "Order status."
    assert {"column": "customer_id", "references": "source('shop', 'customers').id"} in orders["foreign_keys"]
    assert [c["name"] for c in tables["source('shop', 'customers')"]["columns"]] == ["id", "country"]  # the target


def test_unknown_column_is_repaired_on_the_second_attempt(fake_llm):
    bad = answer(
        {"rule": 1, "name": "martsmith.not_negative", "column": "amout"},
        {"rule": 2, "name": "martsmith.expression_is_true", "arguments": {"expression": "shipped_at >= order_date"}},
        {
            "rule": 3,
            "name": "relationships",
            "column": "customer_id",
            "arguments": {"to": "source('shop', 'clients')", "field": "id"},
        },
    )
    fake_llm.queue(bad, GOOD)
    tests = read(fake_llm)[ORDERS.label]
    assert len(tests) == 3 and len(fake_llm.requests) == 2
    *_, echoed, repair = fake_llm.requests[1].messages
    assert echoed == {"role": "assistant", "content": bad}
    assert "tests[0].column: column 'amout' does not exist in source:shop.orders" in repair["content"]
    assert "column 'order_date' does not exist" in repair["content"]
    assert "\"source('shop', 'clients')\" is not a known" in repair["content"]


def test_contract_violations_are_fed_back(fake_llm):
    bad = answer(
        {"rule": 1, "name": "dbt_utils.at_least_one", "column": "amount"},
        {"rule": 2, "name": "accepted_range", "column": "amount", "arguments": {"minimum": 0}},
        {"rule": 1, "name": "martsmith.recency", "column": "ordered_at", "arguments": {"field": "ordered_at"}},
        {"rule": 9, "name": "unique", "column": "id", "colour": "blue"},
    )
    fake_llm.queue(bad, GOOD)
    read(fake_llm)
    repair = fake_llm.requests[1].messages[-1]["content"]
    assert "unknown field 'colour'" in repair  # strict pydantic first
    fake_llm.queue(bad.replace(', "colour": "blue"', ""), GOOD)
    read(fake_llm)
    repair = fake_llm.requests[3].messages[-1]["content"]
    assert "unknown test 'dbt_utils.at_least_one'" in repair
    assert "takes no argument 'minimum'" in repair and "needs min_value or max_value" in repair
    assert "martsmith.recency is a table-level test" in repair and "needs 'datepart'" in repair
    assert "there is no rule 9" in repair
    assert "rule 3 ('each order belongs to a customer') has no test" in repair


def test_never_fixed_raises_llm_error(fake_llm):
    bad = answer(
        {"rule": 1, "name": "not_null", "column": "land"},
        {"rule": 2, "name": "not_empty"},
        {"rule": 3, "name": "not_empty"},
    )
    fake_llm.queue(bad, bad, bad)
    with pytest.raises(LLMError) as info:
        read(fake_llm)
    assert len(fake_llm.requests) == 3 and info.value.exit_code == 5
    assert "no valid tests for the rules in 3 attempt(s)" in info.value.message
    assert "column 'land' does not exist" in info.value.message


def test_missing_key_names_the_variable(monkeypatch):
    import litellm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(litellm, "completion", lambda *a, **k: pytest.fail("no call without a key"))
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        parse_rules(RULES, ORDERS, CAT, llm_model="openai/gpt-4.1-mini")


def test_mock_response_and_several_tables():
    mock = answer(
        {"rule": 1, "table": "source:shop.customers", "name": "not_null", "column": "COUNTRY"},
        {"rule": 1, "table": "customers", "name": "not_null", "column": "country"},
    )
    out = assign_rules_llm(["country is always filled"], [ORDERS, CUSTOMERS], CAT, model=MODEL, mock_response=mock)
    assert out[ORDERS.label] == []
    assert [(t.name, t.column) for t in out[CUSTOMERS.label]] == [("not_null", "country")]  # deduplicated


def test_cli_rules_with_llm_dry_run(sample_project: Path, fake_llm, monkeypatch):
    from martsmith.cli import main

    monkeypatch.setenv(llm_json.API_BASE_ENV, fake_llm.url)
    monkeypatch.setenv(llm_json.API_KEY_ENV, "test")
    fake_llm.queue(
        answer({"rule": 1, "name": "martsmith.accepted_range", "column": "amount", "arguments": {"min_value": 0}})
    )
    sources = sample_project / "models/staging/shop/_shop__sources.yml"
    before = sources.read_text()
    result = CliRunner().invoke(
        main,
        [
            "tests",
            "source:shop.orders",
            "--rules",
            "order amounts are never below zero",
            "--llm",
            "openai/fake",
            "--dry-run",
            "--format",
            "json",
            "--project-dir",
            str(sample_project),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert any(t["reason"] == "rule (llm): order amounts are never below zero" for t in data["tests"]), data["tests"]
    assert data["written"] is False and sources.read_text() == before
    assert "amount" in fake_llm.requests[0].text

    fake_llm.queue(*[answer({"rule": 1, "name": "not_null", "column": "amout"})] * 3)
    failed = CliRunner().invoke(
        main,
        [
            "tests",
            "source:shop.orders",
            "--rules",
            "amount is required",
            "--llm",
            "openai/fake",
            "--dry-run",
            "--project-dir",
            str(sample_project),
        ],
    )
    assert failed.exit_code == 5, failed.output
    assert "column 'amout' does not exist" in failed.output
    assert sources.read_text() == before
