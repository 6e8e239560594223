"""The hostile corpus: warehouse values, comments and column names, requests, rules and LLM
answers that try to make dbt (or martsmith's own checks) run SQL, Jinja or read a file.

Every case runs the real CLI on a real sample project (real dbt, real DuckDB) and asserts:
- the exit code, and one readable error without a traceback;
- the warehouse is as before (every relation's row count and content checksum);
- a refused run leaves the project tree byte-identical; a run that succeeds writes no payload;
- the canary file is never read (its access time is kept; see `test_canary_detects_a_read`);
- no file that dbt reads holds Jinja outside the allowlist (the project still parses).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main
from tests.snapshots import tree, warehouse

pytestmark = pytest.mark.integration

DROP = "{{ run_query('drop schema raw cascade') }}"
CREATE = "{{ run_query('create table main.pwned as select 1 as x') }}"


# --- what must not change ---------------------------------------------------------------


def execute(root: Path, sql: str) -> None:
    (db,) = list(root.glob("*.duckdb"))
    con = duckdb.connect(str(db))
    try:
        con.execute(sql)
    finally:
        con.close()


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A secret file whose access time is set before its modification time: any read of it
    (relatime or strictatime) moves the access time."""
    path = tmp_path / "canary-secret.txt"
    path.write_text("CANARY-7f3a9c\n")
    os.utime(path, (1_000_000, 2_000_000))
    return path


def canary_untouched(path: Path) -> bool:
    return os.stat(path).st_atime == 1_000_000


def test_canary_detects_a_read(canary: Path):
    """The canary check can fail: reading the file moves its access time."""
    assert canary_untouched(canary)
    canary.read_text()
    assert not canary_untouched(canary)


def run(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)])


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def assert_no_payload_written(root: Path, before: dict[str, bytes], *payloads: str) -> None:
    after = tree(root)
    for path, content in after.items():
        if before.get(path) == content:
            continue
        text = content.decode(errors="replace")
        for payload in payloads:
            assert payload not in text, f"{path} carries {payload!r}"
        assert "{{ run_query" not in text and "{{run_query" not in text and "env_var(" not in text, path


def assert_project_parses(root: Path) -> None:
    status = run(root, "status")
    assert status.exit_code == 0, status.output


# --- values stored in the warehouse -----------------------------------------------------


PLANTED_METHOD = f"update raw.payments set method = '{DROP.replace(chr(39), chr(39) * 2)}' where id % 7 = 0"


@pytest.mark.parametrize(
    "args",
    [
        ("tests", "source:shop.payments", "--yes"),
        ("tests", "source:shop.payments", "--yes", "--include-failing"),
        ("model", "number of payments per method per day", "--yes"),
    ],
)
def test_a_jinja_value_in_the_data_never_runs(sample_project: Path, args):
    execute(sample_project, PLANTED_METHOD)
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, *args)
    assert result.exit_code == 0, result.output
    assert warehouse(sample_project).keys() >= before_wh.keys()
    assert {k: v for k, v in warehouse(sample_project).items() if k[0] == "raw"} == {
        k: v for k, v in before_wh.items() if k[0] == "raw"
    }
    assert_no_payload_written(sample_project, before_tree, DROP, "run_query")
    assert_project_parses(sample_project)


@pytest.mark.parametrize("value", ["env_var('HOME')", "var('x') ~ run_query('select 1')", CREATE])
def test_a_value_dbt_would_call_is_not_an_accepted_value(sample_project: Path, value: str):
    quoted = value.replace("'", "''")
    execute(sample_project, f"update raw.orders set status = '{quoted}' where id % 5 = 0")
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, "tests", "source:shop.orders", "--yes", "--include-failing")
    assert result.exit_code == 0, result.output
    assert warehouse(sample_project) == before_wh
    assert_no_payload_written(sample_project, before_tree, value)
    assert_project_parses(sample_project)


def test_unit_test_refuses_rows_dbt_would_render(sample_project: Path):
    built = run(sample_project, "model", "number of customers per city", "--yes", "--name", "customers_per_city")
    assert built.exit_code == 0, built.output
    execute(sample_project, "update raw.customers set city = '{{ env_var(''HOME'') }}'")
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, "unit-test", "customers_per_city", "--yes")
    assert_one_line_error(result, 6, "template delimiters")
    assert tree(sample_project) == before_tree
    assert warehouse(sample_project) == before_wh


# --- warehouse comments and column names (`sources`) ------------------------------------


@pytest.mark.parametrize("comment", [DROP, "{{ env_var('HOME') }}", "{% set x = run_query('select 1') %}"])
def test_sources_writes_comments_inert(sample_project: Path, comment: str):
    quoted = comment.replace("'", "''")
    execute(
        sample_project,
        f"create schema crm; create table crm.accounts (id integer, name varchar); "
        f"insert into crm.accounts values (1, 'a'); "
        f"comment on table crm.accounts is '{quoted}'; "
        f"comment on column crm.accounts.name is '{quoted}'",
    )
    before_wh = warehouse(sample_project)
    result = run(sample_project, "sources", "--schema", "crm")
    assert result.exit_code == 0, result.output
    text = (sample_project / "models/staging/crm/_crm__sources.yml").read_text()
    assert comment not in text and "{ {" in text or "{ %" in text
    assert str(Path.home()) not in text
    assert_project_parses(sample_project)
    assert warehouse(sample_project) == before_wh


def test_sources_leaves_out_a_column_named_as_jinja(sample_project: Path):
    execute(
        sample_project,
        "create schema crm; create table crm.accounts (id integer, \"{{ run_query('drop schema raw cascade') }}\" varchar); "
        "insert into crm.accounts values (1, 'a')",
    )
    before_wh = warehouse(sample_project)
    result = run(sample_project, "sources", "--schema", "crm")
    assert result.exit_code == 0, result.output
    assert "left out" in result.output and "template delimiters" in result.output
    assert "run_query" not in (sample_project / "models/staging/crm/_crm__sources.yml").read_text()
    assert_project_parses(sample_project)
    assert warehouse(sample_project) == before_wh


# --- rules in plain words ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        f"status is one of completed, {CREATE}",
        "status is one of completed, env_var('HOME')",
    ],
)
def test_offline_rules_with_jinja_are_refused(sample_project: Path, rules: str):
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, "tests", "source:shop.orders", "--rules", rules, "--yes")
    assert_one_line_error(result, 2, "Cannot read the rule")
    assert tree(sample_project) == before_tree
    assert warehouse(sample_project) == before_wh


# --- LLM answers --------------------------------------------------------------------------


MODEL_ANSWER = {
    "name": "orders_per_status",
    "description": "One row per order status: number of orders.",
    "inputs": [{"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}],
    "dimensions": [{"name": "status", "input": "orders", "column": "status"}],
    "measures": [{"name": "order_count", "agg": "count", "input": "orders"}],
    "surrogate_key": "orders_per_status_key",
    "grain": ["status"],
}


def _answer(**changes) -> str:
    data = json.loads(json.dumps(MODEL_ANSWER))
    data.update(changes)
    return json.dumps(data)


def _sql_body(body: str) -> str:
    return json.dumps(
        {"name": "orders_body", "description": "One row per order status.", "sql_body": body, "grain": ["status"]}
    )


@pytest.fixture
def llm(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_API_BASE", fake_llm.url)
    monkeypatch.setenv("MARTSMITH_LLM_API_KEY", "test")
    return fake_llm


HOSTILE_MODEL_ANSWERS = {
    "grain breaks out of the macro": _answer(
        grain=["status'] if config(post_hook='drop schema raw cascade') is none else ['status"]
    ),
    "filter value is Jinja": _answer(filters=[{"input": "orders", "column": "status", "op": "=", "values": [DROP]}]),
    "column name with a quote": _answer(
        dimensions=[{"name": "status", "input": "orders", "column": "status) as x, (1"}]
    ),
    "data_type closes a cast": _answer(columns=[{"name": "status", "data_type": "varchar) as x from raw.orders --"}]),
    "sql_body runs Jinja": _sql_body(
        "select status, count(*) as n from {{ source('shop', 'orders') }} group by 1 {{ run_query('drop schema raw cascade') }}"
    ),
    "sql_body sets a hook": _sql_body(
        "{{ config(post_hook='insert into raw.orders select * from raw.orders') }} select status from {{ source('shop', 'orders') }}"
    ),
    "sql_body reads raw directly": _sql_body("select status, count(*) as n from raw.orders group by 1"),
    "sql_body reads a file": _sql_body(
        "select status, (select content from read_text('CANARY')) as c from {{ source('shop', 'orders') }}"
    ),
    "sql_body uses an if block": _sql_body(
        "{% if execute %}{% do run_query('drop schema raw cascade') %}{% endif %} select status from {{ source('shop', 'orders') }}"
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_MODEL_ANSWERS))
def test_hostile_model_answers_are_refused(sample_project: Path, llm, canary: Path, case: str):
    answer = HOSTILE_MODEL_ANSWERS[case].replace("CANARY", str(canary))
    llm.queue(answer, answer, answer)
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, "model", "orders per status", "--llm", "openai/fake", "--yes")
    assert result.exit_code in (5, 6), result.output
    assert "Traceback" not in result.output
    assert tree(sample_project) == before_tree
    assert warehouse(sample_project) == before_wh
    assert canary_untouched(canary)
    assert "CANARY-7f3a9c" not in result.output


def test_jinja_computed_by_sql_is_never_written(sample_project: Path, llm):
    """An sql_body that builds `{{ run_query(...) }}` out of pieces passes the SQL checks (it is
    only a string); its value must not come back as an accepted value dbt renders."""
    body = (
        "select status, '{' || '{ run_query(''drop schema raw cascade'') }' || '}' as payload, count(*) as n "
        "from {{ source('shop', 'orders') }} group by 1, 2"
    )
    llm.queue(_sql_body(body))
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(sample_project, "model", "orders per status", "--llm", "openai/fake", "--yes")
    assert result.exit_code == 0, result.output
    assert {k: v for k, v in warehouse(sample_project).items() if k[0] == "raw"} == {
        k: v for k, v in before_wh.items() if k[0] == "raw"
    }
    assert_no_payload_written(sample_project, before_tree, "{{ run_query")
    assert_project_parses(sample_project)


def test_request_text_is_written_inert(sample_project: Path, llm):
    llm.queue(_answer(description="Orders per status {{ env_var('HOME') }}."))
    result = run(sample_project, "model", "orders per status {{ '' }} {% if true %}", "--llm", "openai/fake", "--yes")
    assert result.exit_code == 0, result.output
    yml = (sample_project / "models/marts/orders_per_status.yml").read_text()
    assert "{ { '' }}" in yml and "{ % if true %}" in yml and "{ { env_var('HOME') }}" in yml
    assert str(Path.home()) not in yml
    assert_project_parses(sample_project)


def test_hostile_rules_answers_are_refused(sample_project: Path, llm, canary: Path):
    answers = [
        {
            "tests": [
                {
                    "rule": 1,
                    "table": "source:shop.orders",
                    "name": "accepted_values",
                    "column": "status",
                    "arguments": {"values": ["completed", CREATE]},
                    "severity": "error",
                }
            ]
        },
        {
            "tests": [
                {
                    "rule": 1,
                    "table": "source:shop.orders",
                    "name": "martsmith.expression_is_true",
                    "column": None,
                    "arguments": {"expression": f"length((select content from read_text('{canary}'))) > 0"},
                    "severity": "error",
                }
            ]
        },
        {
            "tests": [
                {
                    "rule": 1,
                    "table": "source:shop.orders",
                    "name": "martsmith.accepted_range",
                    "column": "amount",
                    "arguments": {"min_value": f"length(read_text('{canary}'))"},
                    "severity": "error",
                }
            ]
        },
    ]
    llm.queue(*[json.dumps(a) for a in answers])
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(
        sample_project,
        "tests",
        "source:shop.orders",
        "--rules",
        "status is a valid status",
        "--llm",
        "openai/fake",
        "--yes",
    )
    # the last answer's problem is the error; the earlier ones were named back to the model
    assert_one_line_error(result, 5, "read_text() reads files")
    assert "template delimiters" in llm.requests[1].text
    assert "subquery or table is not allowed" in llm.requests[2].text
    assert tree(sample_project) == before_tree
    assert warehouse(sample_project) == before_wh
    assert canary_untouched(canary)


STAR_EDITS = {
    "measure test runs a query": lambda s: s["facts"][0]["measures"][0].update(
        tests=[{"name": "martsmith.expression_is_true", "arguments": {"expression": "1 = 1 " + DROP}}]
    ),
    "data_type closes a cast": lambda s: s["staging"][0]["columns"][3].update(data_type="integer) as x, (select 1"),
    "degenerate name": lambda s: s["facts"][0].update(
        degenerate=[{"name": "order_id') }} {{ run_query('drop schema raw cascade')", "column": "order_id"}]
    ),
    "date dimension path": lambda s: s.update(
        date_dimension={"name": "../../../macros/pwned_macro", "start_date": "2024-01-01", "end_date": "2026-01-01"}
    ),
}


@pytest.mark.parametrize("case", list(STAR_EDITS))
def test_hostile_star_answers_are_refused(sample_project: Path, llm, case: str):
    import copy

    from tests.star.test_star_llm import STAR  # the valid answer of the star planner's own tests

    star = copy.deepcopy(STAR)
    STAR_EDITS[case](star)
    llm.queue(*[json.dumps(star)] * 3)
    before_tree, before_wh = tree(sample_project), warehouse(sample_project)
    result = run(
        sample_project, "star", "order lines as the fact with products as a dimension", "--llm", "openai/fake", "--yes"
    )
    assert result.exit_code in (5, 6), result.output
    assert "Traceback" not in result.output
    assert tree(sample_project) == before_tree
    assert warehouse(sample_project) == before_wh
    assert not (sample_project / "macros" / "pwned_macro.sql").exists()
