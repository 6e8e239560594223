"""The llm planner against a scripted OpenAI-compatible server (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakes.openai_server import Reply  # noqa: E402  (tests/ is put on sys.path by conftest)
from fakes.prompt_data import data_of, tables_of  # noqa: E402
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table  # noqa: E402
from martsmith.errors import LLMError, UsageError  # noqa: E402
from martsmith.plan import llm  # noqa: E402
from martsmith.plan.llm import parse_answer, plan_with_llm  # noqa: E402
from martsmith.spec import ModelSpec  # noqa: E402
from martsmith.validate.findings import Finding  # noqa: E402

MODEL = "openai/fake-model"


def shop_catalog() -> Catalog:
    orders = Table(
        "source",
        "orders",
        "raw",
        "orders",
        source_name="shop",
        description="Orders placed in the web shop.",
        columns=[
            Column("order_id", "INTEGER"),
            Column("customer_id", "INTEGER"),
            Column("amount", "DOUBLE", "Order total in EUR."),
            Column("status", "VARCHAR", values=["placed", "shipped", "returned"]),
            Column("ordered_at", "TIMESTAMP"),
        ],
        row_count=100,
        primary_key="order_id",
    )
    customers = Table(
        "source",
        "customers",
        "raw",
        "customers",
        source_name="shop",
        columns=[Column("customer_id", "INTEGER"), Column("country", "VARCHAR")],
        row_count=10,
        primary_key="customer_id",
    )
    fk = ForeignKey("source:shop.orders", "customer_id", "source:shop.customers", "customer_id")
    return Catalog(tables=[orders, customers], foreign_keys=[fk])


def columns_check(catalog: Catalog):
    """A small stand-in for the validate stage: every input and column must be in the catalog."""

    def check(spec: ModelSpec) -> list[Finding]:
        found: list[Finding] = []
        tables = {}
        for i in spec.inputs:
            label = f"source:{i.source_name}.{i.table}" if i.kind == "source" else i.table
            table = catalog.table(label)
            if table is None:
                found.append(Finding("columns", f"input {label} is not in the catalog"))
            tables[i.alias] = table
        used = [(d.input, d.column) for d in spec.dimensions]
        used += [(m.input, m.column) for m in spec.measures if m.column]
        used += [(f.input, f.column) for f in spec.filters]
        used += [(j.left, j.left_column) for j in spec.joins] + [(j.right, j.right_column) for j in spec.joins]
        for alias, column in used:
            table = tables.get(alias)
            if table is not None and table.column(column) is None:
                names = ", ".join(c.name for c in table.columns)
                found.append(
                    Finding(
                        "columns",
                        f"column '{column}' does not exist in source {table.source_name}.{table.name}; "
                        f"columns are: {names}",
                    )
                )
        return found

    return check


def answer(**overrides) -> str:
    spec = {
        "name": "revenue_by_country",
        "description": "One row per customer country. Revenue of shipped orders.",
        "inputs": [
            {"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"},
            {"alias": "customers", "kind": "source", "source_name": "shop", "table": "customers"},
        ],
        "joins": [
            {"left": "orders", "left_column": "customer_id", "right": "customers", "right_column": "customer_id"}
        ],
        "dimensions": [{"name": "country", "input": "customers", "column": "country"}],
        "measures": [{"name": "revenue", "agg": "sum", "input": "orders", "column": "amount"}],
        "filters": [{"input": "orders", "column": "status", "op": "=", "values": ["shipped"]}],
        "grain": ["country"],
    }
    spec.update(overrides)
    return json.dumps(spec)


REQUEST = "revenue of shipped orders by customer country"


def plan(fake, **kwargs) -> ModelSpec:
    kwargs.setdefault("check", columns_check(shop_catalog()))
    return plan_with_llm(REQUEST, shop_catalog(), model=MODEL, api_base=fake.url, api_key="test", timeout=5, **kwargs)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(llm, "RATE_LIMIT_BACKOFF", 0.01)
    for var in (llm.API_BASE_ENV, llm.API_KEY_ENV):
        monkeypatch.delenv(var, raising=False)


def test_valid_answer_becomes_a_spec(fake_llm):
    fake_llm.queue(answer())
    spec = plan(fake_llm)
    assert spec.name == "revenue_by_country"
    assert spec.request == REQUEST and spec.planner == f"llm:{MODEL}"
    assert [m.column for m in spec.measures] == ["amount"]
    (req,) = fake_llm.requests
    assert req.body["temperature"] == 0
    assert req.body["response_format"] == {"type": "json_object"}
    assert req.headers.get("authorization") == "Bearer test"
    system, user = req.messages
    assert '"sql_body"' in system["content"] and '"planner"' not in system["content"]
    tables = tables_of(user["content"])
    assert "source('shop', 'orders')" in tables and {"request": REQUEST} in data_of(user["content"])
    status = next(c for c in tables["source('shop', 'orders')"]["columns"] if c["name"] == "status")
    assert status["values"] == ["placed", "shipped", "returned"]  # low-cardinality values are shown


def test_fenced_answer_with_prose(fake_llm):
    fake_llm.queue(f"Here is the model:\n```json\n{answer()}\n```\nLet me know if it helps.")
    assert plan(fake_llm).name == "revenue_by_country"


def test_name_override_and_tool_fields_ignored(fake_llm):
    fake_llm.queue(answer(name="whatever", request="ignored", planner="me", tests=[]))
    spec = plan(fake_llm, name="shipped_revenue")
    assert (spec.name, spec.request, spec.planner) == ("shipped_revenue", REQUEST, f"llm:{MODEL}")
    assert 'Use "name": "shipped_revenue"' in fake_llm.requests[0].text


def test_repair_loop_fixes_unknown_column(fake_llm):
    bad = answer(measures=[{"name": "revenue", "agg": "sum", "input": "orders", "column": "amout"}])
    fake_llm.queue(bad, answer())
    spec = plan(fake_llm)
    assert spec.measures[0].column == "amount"
    assert len(fake_llm.requests) == 2
    *_, echoed, repair = fake_llm.requests[1].messages
    assert echoed == {"role": "assistant", "content": bad}
    assert repair["role"] == "user"
    assert "column 'amout' does not exist in source shop.orders" in repair["content"]
    assert "columns are: order_id, customer_id, amount, status, ordered_at" in repair["content"]
    assert "llm answer accepted after 2 calls" in spec.notes


def test_never_fixed_raises_after_max_attempts(fake_llm):
    bad = answer(dimensions=[{"name": "country", "input": "customers", "column": "land"}])
    fake_llm.queue(bad, bad, bad)
    with pytest.raises(LLMError) as info:
        plan(fake_llm, max_attempts=3)
    assert len(fake_llm.requests) == 3
    assert "3 attempt" in info.value.message
    assert "column 'land' does not exist in source shop.customers" in info.value.message


def test_malformed_json_every_time(fake_llm):
    fake_llm.queue('{"name": "x", ', "no json at all", '{"name": "x" "description": 1}')
    with pytest.raises(LLMError) as info:
        plan(fake_llm)
    assert "3 attempt" in info.value.message and "not valid JSON" in info.value.message
    assert "not valid JSON" in fake_llm.requests[1].messages[-1]["content"]
    assert "no JSON object" in fake_llm.requests[2].messages[-1]["content"]


def test_validation_errors_are_fed_back(fake_llm):
    fake_llm.queue(
        answer(colour="blue", measures=[{"name": "revenue", "agg": "total", "input": "orders", "column": "amount"}]),
        answer(),
    )
    plan(fake_llm)
    repair = fake_llm.requests[1].messages[-1]["content"]
    assert "unknown field 'colour'" in repair
    assert "measures[0].agg" in repair


@pytest.mark.parametrize("bad_name", ["../../etc/x", "a/b"])
def test_model_name_with_path_characters_is_rejected(fake_llm, bad_name):
    fake_llm.queue(answer(name=bad_name), answer(name="ok_name"))
    assert plan(fake_llm).name == "ok_name"
    assert "is not a valid identifier" in fake_llm.requests[1].messages[-1]["content"]

    fake_llm.queue(*[answer(name=bad_name)] * 2)
    with pytest.raises(LLMError, match="not a valid identifier"):
        plan(fake_llm, max_attempts=2)


def test_bad_name_argument_is_a_usage_error(fake_llm):
    with pytest.raises(UsageError):
        plan(fake_llm, name="../x")
    assert fake_llm.requests == []


def test_rate_limit_then_success(fake_llm):
    fake_llm.queue(429, answer())
    assert plan(fake_llm).name == "revenue_by_country"
    assert len(fake_llm.requests) == 2


def test_rate_limit_every_time(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_RETRIES", "2")
    fake_llm.queue(429, 429, 429, 429)
    with pytest.raises(LLMError, match="rate limited"):
        plan(fake_llm, max_attempts=5)
    assert len(fake_llm.requests) == 3  # one call and two retries


def test_authentication_error(fake_llm):
    fake_llm.queue(401)
    with pytest.raises(LLMError, match="Authentication failed") as info:
        plan(fake_llm)
    assert "API key" in str(info.value)
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize("status, text", [(404, "not found"), (400, "bad request"), (500, "HTTP 500")])
def test_other_http_errors(fake_llm, status, text):
    fake_llm.queue(status)
    with pytest.raises(LLMError, match=text):
        plan(fake_llm)


def test_timeout(fake_llm):
    fake_llm.queue(Reply(answer(), delay=3))
    with pytest.raises(LLMError, match="timeout") as info:
        plan_with_llm(REQUEST, shop_catalog(), model=MODEL, api_base=fake_llm.url, api_key="test", timeout=1)
    assert "\n" not in info.value.message


def test_connection_refused():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LLMError, match="Could not connect"):
        plan_with_llm(
            REQUEST, shop_catalog(), model=MODEL, api_base=f"http://127.0.0.1:{port}/v1", api_key="test", timeout=2
        )


def test_missing_api_key_fails_before_any_call(monkeypatch):
    import litellm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("litellm.completion must not be called")

    monkeypatch.setattr(litellm, "completion", no_network)
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        plan_with_llm(REQUEST, shop_catalog(), model="openai/gpt-4.1-mini")


def test_unknown_provider_fails_before_any_call():
    with pytest.raises(LLMError, match="provider"):
        plan_with_llm(REQUEST, shop_catalog(), model="no-such-model-xyz")


def test_env_settings(fake_llm, monkeypatch):
    monkeypatch.setenv(llm.API_BASE_ENV, fake_llm.url)
    monkeypatch.setenv(llm.API_KEY_ENV, "from-env")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_llm.queue(answer())
    plan_with_llm(REQUEST, shop_catalog(), model=MODEL, timeout=5)
    assert fake_llm.requests[0].headers.get("authorization") == "Bearer from-env"


def test_sql_body_answer_is_accepted(fake_llm):
    sql = (
        "select order_id, amount, sum(amount) over (partition by customer_id order by ordered_at) "
        "as running_amount from {{ source('shop', 'orders') }}"
    )
    fake_llm.queue(
        json.dumps(
            {
                "name": "running_order_amount",
                "description": "One row per order. Running total of order amounts per customer.",
                "sql_body": sql,
                "grain": ["order_id"],
            }
        )
    )
    spec = plan(fake_llm)
    assert spec.sql_body == sql and spec.measures == []


def test_sql_body_with_other_jinja_is_repaired(fake_llm):
    bad = json.dumps(
        {
            "name": "x",
            "description": "One row per order.",
            "sql_body": "{% set t = 1 %} select * from {{ source('shop', 'orders') }}; drop table y",
        }
    )
    good = json.dumps(
        {"name": "x", "description": "One row per order.", "sql_body": "select * from {{ ref('stg_orders') }}"}
    )
    fake_llm.queue(bad, good)
    assert plan(fake_llm).sql_body.startswith("select")
    repair = fake_llm.requests[1].messages[-1]["content"]
    assert "Jinja only as" in repair and "single SELECT" in repair and "semicolons" in repair


def test_empty_answer_is_retried(fake_llm):
    fake_llm.queue("", answer())
    assert plan(fake_llm).name == "revenue_by_country"
    assert "empty" in fake_llm.requests[1].messages[-1]["content"]


def test_mock_response_needs_no_server(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = plan_with_llm(
        REQUEST,
        shop_catalog(),
        model="openai/gpt-4.1-mini",
        mock_response=answer(),
        check=columns_check(shop_catalog()),
    )
    assert spec.name == "revenue_by_country" and spec.planner == "llm:openai/gpt-4.1-mini"


def test_parse_answer_tolerates_prose_and_fences():
    assert parse_answer('```\n{"a": {"b": 1}}\n```') == {"a": {"b": 1}}
    assert parse_answer('The JSON: {"a": "}"} done') == {"a": "}"}
    with pytest.raises(ValueError, match="JSON object"):
        parse_answer("[1, 2]")


def test_import_does_not_load_litellm():
    code = "import sys, martsmith.plan.llm; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
