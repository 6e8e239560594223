"""The llm planner's answers in the analytic shapes — a window, a pivot, an existence filter —
built by `martsmith model --llm` in the sample project, against a fake OpenAI-compatible server.
The structured spec carries them: no sql_body."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main

MODEL = "openai/fake-model"

WINDOW = {
    "name": "monthly_revenue_trend",
    "description": "One row per order month: revenue, its running total, last month's revenue and the month's rank.",
    "inputs": [
        {
            "alias": "orders",
            "kind": "source",
            "source_name": "shop",
            "table": "orders",
            "dedupe_key": ["id"],
            "dedupe_order_by": "updated_at",
        }
    ],
    "dimensions": [{"name": "order_month", "input": "orders", "column": "ordered_at", "time_grain": "month"}],
    "measures": [{"name": "revenue", "agg": "sum", "input": "orders", "column": "amount"}],
    "windows": [
        {"name": "running_revenue", "function": "running_total", "column": "revenue", "order_by": "order_month"},
        {"name": "previous_month_revenue", "function": "lag", "column": "revenue", "order_by": "order_month"},
        {"name": "revenue_rank", "function": "rank", "order_by": "revenue", "direction": "desc"},
    ],
    "order_by": [{"column": "order_month", "direction": "asc"}],
    "grain": ["order_month"],
}

PIVOT = {
    "name": "payments_by_method_month",
    "description": "One row per payment month: the number of payments by each method.",
    "inputs": [{"alias": "payments", "kind": "source", "source_name": "shop", "table": "payments"}],
    "dimensions": [{"name": "payment_month", "input": "payments", "column": "paid_at", "time_grain": "month"}],
    "measures": [{"name": "payment_count", "agg": "count", "input": "payments", "description": "Number of payments."}],
    "pivot": {
        "input": "payments",
        "column": "method",
        "values": ["credit_card", "bank_transfer", "gift_card", "coupon"],
        "measure": "payment_count",
    },
    "grain": ["payment_month"],
}

EXISTS = {
    "name": "customers_without_orders",
    "description": "One row per customer who never placed an order.",
    "kind": "listing",
    "inputs": [
        {
            "alias": "customers",
            "kind": "source",
            "source_name": "shop",
            "table": "customers",
            "dedupe_key": ["id"],
            "dedupe_order_by": "updated_at",
        },
        {"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"},
    ],
    "dimensions": [
        {"name": "customer_id", "input": "customers", "column": "id"},
        {"name": "country", "input": "customers", "column": "country"},
    ],
    "exists": [
        {
            "input": "orders",
            "column": "customer_id",
            "outer": "customers",
            "outer_column": "id",
            "negated": True,
            "filters": [{"input": "orders", "column": "status", "op": "not in", "values": ["cancelled", "Cancelled"]}],
        }
    ],
}


@pytest.fixture
def llm_env(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_API_BASE", fake_llm.url)
    monkeypatch.setenv("MARTSMITH_LLM_API_KEY", "test")
    return fake_llm


def build(project, request: str):
    return CliRunner().invoke(
        main, ["model", request, "--llm", MODEL, "--yes", "--project-dir", str(project)], catch_exceptions=False
    )


def query(project, sql: str, params: list | None = None) -> list[tuple]:
    # Not read-only: dbt, run in this process, may still hold the file with the default config.
    con = duckdb.connect(str(project / "shop.duckdb"))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def table(project, name: str) -> list[tuple]:
    schema = query(project, "select table_schema from information_schema.tables where table_name = ?", [name])
    assert schema, f"{name} was not built"
    return query(project, f'select * from "{schema[0][0]}"."{name}"')


def test_a_window_spec_is_built(sample_project, llm_env):
    llm_env.queue(json.dumps(WINDOW))
    result = build(sample_project, "monthly revenue with running total, last month and rank")
    assert result.exit_code == 0, result.output
    sql = (sample_project / "models/marts/monthly_revenue_trend.sql").read_text()
    assert "lag(revenue, 1) over (order by order_month)" in sql and "windowed as (" in sql
    rows = sorted(table(sample_project, "monthly_revenue_trend"))
    assert rows[0][3] is None  # the first month has no previous one
    assert all(later[3] == earlier[1] for earlier, later in zip(rows, rows[1:]))
    assert float(rows[-1][2]) == pytest.approx(sum(float(r[1]) for r in rows))
    props = (sample_project / "models/marts/monthly_revenue_trend.yml").read_text()
    assert "null on the first row" in props


def test_a_pivot_spec_is_built_with_its_guard(sample_project, llm_env):
    llm_env.queue(json.dumps(PIVOT))
    result = build(sample_project, "payments per month by method, one column per method")
    assert result.exit_code == 0, result.output
    props = (sample_project / "models/marts/payments_by_method_month.yml").read_text()
    assert "martsmith.values_in:" in props and "to: source('shop', 'payments')" in props
    assert "passed" in result.output
    rows = table(sample_project, "payments_by_method_month")
    ((total,),) = query(sample_project, "select count(*) from raw.payments")
    assert sum(sum(r[1:]) for r in rows) == total  # every payment is in one method's column


def test_an_exists_spec_is_built(sample_project, llm_env):
    llm_env.queue(json.dumps(EXISTS))
    result = build(sample_project, "customers who never ordered")
    assert result.exit_code == 0, result.output
    sql = (sample_project / "models/marts/customers_without_orders.sql").read_text()
    assert "not exists (" in sql
    got = {r[0] for r in table(sample_project, "customers_without_orders")}
    expected = {
        r[0]
        for r in query(
            sample_project,
            "select distinct id from raw.customers where id not in (select customer_id from raw.orders "
            "where customer_id is not null and lower(status) <> 'cancelled')",
        )
    }
    assert got == expected and expected
    props = (sample_project / "models/marts/customers_without_orders.yml").read_text()
    assert "- unique" in props  # the listing's grain: one row per customer id (deduplicated)


def test_a_spec_the_validators_refuse_is_repaired(sample_project, llm_env):
    # share_of_total with an order_by would be a running share: refused, the message fed back.
    wrong = json.loads(json.dumps(WINDOW))
    wrong["windows"] = [
        {"name": "revenue_share", "function": "share_of_total", "column": "revenue", "order_by": "order_month"}
    ]
    fixed = json.loads(json.dumps(WINDOW))
    fixed["windows"] = [{"name": "revenue_share", "function": "share_of_total", "column": "revenue"}]
    llm_env.queue(json.dumps(wrong), json.dumps(fixed))
    result = build(sample_project, "monthly revenue and its share of the total")
    assert result.exit_code == 0, result.output
    assert len(llm_env.requests) == 2
    assert "share_of_total takes no order_by" in llm_env.requests[1].text
