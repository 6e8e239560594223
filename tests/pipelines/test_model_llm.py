"""`martsmith model --llm` through the CLI against a fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration

GOOD = {
    "name": "orders_per_status",
    "description": "One row per order status: number of orders.",
    "inputs": [{"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}],
    "dimensions": [{"name": "status", "input": "orders", "column": "status"}],
    "measures": [{"name": "order_count", "agg": "count", "input": "orders"}],
    "surrogate_key": "orders_per_status_key",
    "grain": ["status"],
}


@pytest.fixture
def llm_env(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_API_BASE", fake_llm.url)
    monkeypatch.setenv("MARTSMITH_LLM_API_KEY", "test")
    return fake_llm


def run(project, *args):
    return CliRunner().invoke(main, ["model", *args, "--project-dir", str(project)], catch_exceptions=False)


def test_llm_answer_is_built(sample_project, llm_env):
    llm_env.queue(json.dumps(GOOD))
    result = run(sample_project, "orders per status", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 0, result.output
    assert (sample_project / "models/marts/orders_per_status.sql").is_file()
    assert "llm:openai/fake-model" in (sample_project / "models/marts/orders_per_status.yml").read_text()


def test_repair_loop_fixes_an_unknown_column(sample_project, llm_env):
    wrong = json.loads(json.dumps(GOOD))
    wrong["dimensions"][0]["column"] = "state"
    llm_env.queue(json.dumps(wrong), json.dumps(GOOD))
    result = run(sample_project, "orders per status", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 0, result.output
    assert len(llm_env.requests) == 2
    assert "'state' does not exist" in llm_env.requests[1].text


def test_unknown_column_never_fixed(sample_project, llm_env, snapshot):
    wrong = json.loads(json.dumps(GOOD))
    wrong["measures"][0] = {"name": "revenue", "agg": "sum", "input": "orders", "column": "revenue"}
    llm_env.queue(*[json.dumps(wrong)] * 3)
    before = snapshot(sample_project)
    result = run(sample_project, "revenue per status", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 5, result.output
    assert "no valid model spec in 3 attempt(s)" in result.output
    assert "revenue" in result.output and len(llm_env.requests) == 3
    assert snapshot(sample_project) == before


def test_sql_body_that_is_not_a_select(sample_project, llm_env, snapshot):
    evil = {"name": "evil", "description": "One row.", "sql_body": "drop table raw.orders"}
    llm_env.queue(*[json.dumps(evil)] * 3)
    before = snapshot(sample_project)
    result = run(sample_project, "drop everything", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 5, result.output
    assert snapshot(sample_project) == before


def test_model_name_with_path_characters(sample_project, llm_env, snapshot):
    bad = dict(GOOD, name="../../etc/passwd")
    llm_env.queue(*[json.dumps(bad)] * 3)
    before = snapshot(sample_project)
    result = run(sample_project, "orders per status", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 5, result.output
    assert snapshot(sample_project) == before


def test_missing_api_key(sample_project, monkeypatch, snapshot):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MARTSMITH_LLM_API_BASE", raising=False)
    monkeypatch.delenv("MARTSMITH_LLM_API_KEY", raising=False)
    before = snapshot(sample_project)
    result = run(sample_project, "orders per status", "--llm", "openai/gpt-4.1-mini", "--yes")
    assert result.exit_code == 5, result.output
    assert "OPENAI_API_KEY" in result.output
    assert snapshot(sample_project) == before


def test_sql_body_answer_is_checked_and_built(sample_project, llm_env):
    body = {
        "name": "shipping_delay",
        "description": "One row per order status: average days from order to shipment.",
        "sql_body": (
            "with orders as (\n    select * from {{ source('shop', 'orders') }}\n)\n\n"
            "select\n    status,\n    avg(date_diff('day', ordered_at, shipped_at)) as avg_days_to_ship\n"
            "from orders\nwhere shipped_at is not null\ngroup by status\n"
        ),
        "grain": ["status"],
    }
    llm_env.queue(json.dumps(body))
    result = run(sample_project, "average days to ship per status", "--llm", "openai/fake-model", "--yes")
    assert result.exit_code == 0, result.output
    sql = (sample_project / "models/marts/shipping_delay.sql").read_text()
    assert "{{ source('shop', 'orders') }}" in sql and "avg_days_to_ship" in sql
    assert "tests:" in result.output and "passed" in result.output
    props = (sample_project / "models/marts/shipping_delay.yml").read_text()
    assert "- name: avg_days_to_ship" in props  # documented from the preview, though the spec never named it
