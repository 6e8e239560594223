"""`martsmith model --llm`: every check after planning feeds the repair loop (lint, the warehouse
compiling the SQL), valid SQL that a lint rule used to reject is kept, and the summary reports
calls, tokens and provenance; a rerun is answered from the cache."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration

MODEL = "openai/fake-model"


@pytest.fixture
def llm_env(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_API_BASE", fake_llm.url)
    monkeypatch.setenv("MARTSMITH_LLM_API_KEY", "test")
    return fake_llm


def body(sql: str, name: str = "orders_per_status") -> str:
    return json.dumps(
        {
            "name": name,
            "description": "One row per order status: number of orders.",
            "sql_body": sql,
            "grain": ["status"],
        }
    )


GOOD_SQL = (
    "with orders as (\n    select * from {{ source('shop', 'orders') }}\n)\n\n"
    "select\n    status,\n    count(*) as order_count\nfrom orders\ngroup by status\n"
)


def run(project, *args):
    return CliRunner().invoke(
        main,
        ["model", "orders per status", "--llm", MODEL, *args, "--project-dir", str(project)],
        catch_exceptions=False,
    )


JOINED_SQL = (
    "with orders as (\n    select * from {{ source('shop', 'orders') }}\n),\n\n"
    "customers as (\n    select * from {{ source('shop', 'customers') }}\n)\n\n"
    "select\n    STATUS,\n    count(*) as order_count\nfrom orders\n"
    "inner join customers on orders.customer_id = customers.id\ngroup by STATUS\n"
)


def test_a_lint_failure_is_fixed_on_the_second_call(sample_project, llm_env):
    # RF02 (a column unqualified in a join) is not auto-fixed; the upper case is, silently.
    llm_env.queue(body(JOINED_SQL), body(JOINED_SQL.replace("STATUS", "orders.status")))
    result = run(sample_project, "--yes")
    assert result.exit_code == 0, result.output
    assert len(llm_env.requests) == 2
    repair = llm_env.requests[1].messages[-1]["content"]
    assert "lint, line 10 `status,`: RF02" in repair  # the check, the offending line (as fixed), the rule
    assert "orders.status" in (sample_project / "models/marts/orders_per_status.sql").read_text()
    assert "llm answer accepted after 2 calls" in result.output


def test_an_unaliased_expression_is_sent_back(sample_project, llm_env):
    llm_env.queue(body(GOOD_SQL.replace("count(*) as order_count", "count(*)")), body(GOOD_SQL))
    result = run(sample_project, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "'count_star()' has no plain name: give its expression an alias" in llm_env.requests[1].text


def test_a_compile_error_is_fixed_on_the_second_call(sample_project, llm_env):
    wrong = GOOD_SQL.replace("count(*) as order_count", "sum(status) as order_count")
    llm_env.queue(body(wrong), body(GOOD_SQL))
    result = run(sample_project, "--yes")
    assert result.exit_code == 0, result.output
    repair = llm_env.requests[1].messages[-1]["content"]
    assert "compile, line 7 `sum(status) as order_count`" in repair and "sum(VARCHAR)" in repair


def test_a_lint_failure_never_fixed_fails_with_the_findings(sample_project, llm_env, snapshot, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_MAX_ATTEMPTS", "2")
    unqualified = body(JOINED_SQL)
    llm_env.queue(unqualified, unqualified)
    before = snapshot(sample_project)
    result = run(sample_project, "--yes")
    assert result.exit_code == 6, result.output
    assert "sqlfluff violations remain" in result.output and len(llm_env.requests) == 2
    assert snapshot(sample_project) == before


def test_select_1_inside_not_exists_is_valid_sql(sample_project, llm_env):
    sql = (
        "with customers as (\n    select * from {{ source('shop', 'customers') }}\n),\n\n"
        "orders as (\n    select * from {{ source('shop', 'orders') }}\n)\n\n"
        "select customers.id as customer_id\nfrom customers\nwhere not exists (\n"
        "    select 1 from orders\n    where orders.customer_id = customers.id\n)\n"
    )
    answer = json.loads(body(sql, name="customers_without_orders"))
    answer.update(description="One row per customer without orders.", grain=["customer_id"])
    llm_env.queue(json.dumps(answer))
    result = CliRunner().invoke(
        main,
        ["model", "customers without orders", "--llm", MODEL, "--yes", "--project-dir", str(sample_project)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert len(llm_env.requests) == 1


def test_json_summary_has_calls_tokens_and_provenance(sample_project, llm_env):
    llm_env.queue(body(GOOD_SQL))
    result = run(sample_project, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["llm"]["calls"] == 1 and data["llm"]["prompt_tokens"] == 10 and data["llm"]["cost_usd"] is None
    props = yaml.safe_load((sample_project / "models/marts/orders_per_status.yml").read_text())
    meta = props["models"][0]["config"]["meta"]["martsmith"]
    assert meta["llm_model"] == MODEL and meta["prompt_sha256"] == data["llm"]["prompt_sha256"][0]


def test_a_rerun_is_free_and_the_same(sample_project, llm_env, monkeypatch):
    monkeypatch.delenv("MARTSMITH_LLM_NO_CACHE")
    llm_env.queue(body(GOOD_SQL))
    first = run(sample_project, "--dry-run")
    second = run(sample_project, "--dry-run")
    assert first.exit_code == second.exit_code == 0, second.output
    assert len(llm_env.requests) == 1
    assert "llm: 1 call (1 cached)" in second.output
    assert "llm: 1 call, 20 tokens (10 in, 10 out), cost unknown" in first.output

    def without_usage(text: str) -> str:
        # The second run plans from the cached context, so it has no 'reading ...' progress lines.
        text = re.sub(r"· reading the (dbt project|warehouse catalog)\n", "", text)
        return re.sub(r"\n  llm: [^\n]*", "", text)

    assert without_usage(first.output) == without_usage(second.output)
    llm_env.queue(body(GOOD_SQL))
    assert run(sample_project, "--dry-run", "--no-cache").exit_code == 0
    assert len(llm_env.requests) == 2


def test_llm_timeout_option(sample_project, llm_env):
    from fakes.openai_server import Reply

    llm_env.queue(Reply(body(GOOD_SQL), delay=2))
    result = run(sample_project, "--dry-run", "--llm-timeout", "0.5")
    assert result.exit_code == 5 and "within the timeout of 0.5 s" in result.output
    bad = run(sample_project, "--dry-run", "--llm-timeout", "-1")
    assert bad.exit_code == 2 and "--llm-timeout must be a number of seconds above 0" in bad.output


def test_a_failing_build_test_goes_back_to_the_model(sample_project, llm_env, monkeypatch):
    """What dbt's build reports (a failing test, a compile error) is a finding like the others;
    the write stage has rolled everything back before the model is asked again."""
    from martsmith.errors import ValidationFailed
    from martsmith.pipelines import model as pipeline
    from martsmith.validate.findings import Finding

    real_build, failures = pipeline.build, []

    def build_failing_once(run_, result, *, no_build):
        if not failures:
            failures.append(result.spec.name)
            finding = Finding("test", "unique_orders_per_status_status: fail 2 results")
            raise ValidationFailed(f"dbt build failed; nothing was kept:\n  {finding}", [finding])
        return real_build(run_, result, no_build=no_build)

    monkeypatch.setattr(pipeline, "build", build_failing_once)
    llm_env.queue(body(GOOD_SQL), body(GOOD_SQL.replace("order_count", "orders_placed")))
    result = run(sample_project, "--yes")
    assert result.exit_code == 0, result.output
    assert "test: unique_orders_per_status_status: fail 2 results" in llm_env.requests[1].messages[-1]["content"]
    assert "orders_placed" in (sample_project / "models/marts/orders_per_status.sql").read_text()
