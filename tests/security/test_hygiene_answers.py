"""LLM answers have limits: a huge or deeply nested answer is an invalid answer that goes back to
the model (the repair loop), never a RecursionError or a traceback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from martsmith.context.catalog import Catalog, Column, Table  # noqa: E402
from martsmith.errors import LLMError  # noqa: E402
from martsmith.llm import client as llm_json  # noqa: E402
from martsmith.llm.client import MAX_ANSWER_DEPTH, complete_structured, json_depth, parse_json_object  # noqa: E402

MODEL = "openai/fake-model"
DEEP = '{"name": ' + "[" * 200_000 + "]" * 200_000 + "}"  # json.loads alone: RecursionError
DEEP_OBJECTS = '{"a": ' * 5_000 + "1" + "}" * 5_000


@pytest.fixture(autouse=True)
def server_env(monkeypatch):
    monkeypatch.setattr(llm_json, "RATE_LIMIT_BACKOFF", 0.01)
    for var in (llm_json.API_BASE_ENV, llm_json.API_KEY_ENV):
        monkeypatch.delenv(var, raising=False)


def test_json_alone_would_recurse():
    # The reason for the guard: the C parser recurses (the limit is well below 200,000 levels).
    with pytest.raises(RecursionError):
        json.loads(DEEP)


@pytest.mark.parametrize(
    "text", [DEEP, DEEP_OBJECTS, "```json\n" + DEEP + "\n```", '{"a": "' + "[" * 100 + '"}' + "[" * 10**5]
)
def test_depth_is_checked_before_parsing(text):
    if '"' + "[" * 100 in text:  # brackets inside a string and after the object don't count
        assert parse_json_object(text) == {"a": "[" * 100}
        return
    with pytest.raises(ValueError, match="more than 64 levels deep"):
        parse_json_object(text)


def test_depth_limit_is_exact():
    ok = '{"a": ' + "[" * (MAX_ANSWER_DEPTH - 1) + "]" * (MAX_ANSWER_DEPTH - 1) + "}"
    assert json_depth(ok) == MAX_ANSWER_DEPTH
    assert parse_json_object(ok)["a"]
    too = '{"a": ' + "[" * MAX_ANSWER_DEPTH + "]" * MAX_ANSWER_DEPTH + "}"
    with pytest.raises(ValueError, match="levels deep"):
        parse_json_object(too)


def test_escaped_quotes_do_not_hide_brackets():
    assert json_depth(r'{"a": "\"", "b": [[[]]]}') == 4
    assert json_depth(r'{"a": "\\", "b": [[[]]]}') == 4


def test_size_is_checked_before_parsing():
    huge = '{"name": "' + "x" * (llm_json.MAX_ANSWER_CHARS + 1) + '"}'
    with pytest.raises(ValueError, match="characters long, more than the 1,000,000 allowed"):
        parse_json_object(huge)


def test_recursion_in_a_validator_or_check_is_a_rejected_answer():
    calls = {"parse": 0, "check": 0}

    def parse(text):
        calls["parse"] += 1
        if calls["parse"] == 1:
            raise RecursionError("maximum recursion depth exceeded")  # e.g. pydantic on a nested answer
        return parse_json_object(text)

    def check(value):
        calls["check"] += 1
        if calls["check"] == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return []

    got = complete_structured(
        [{"role": "user", "content": "x"}], model=MODEL, parse=parse, check=check, mock_response='{"n": 1}'
    )
    assert got == {"n": 1} and calls == {"parse": 3, "check": 2}
    with pytest.raises(LLMError, match="levels deep"):
        complete_structured(
            [{"role": "user", "content": "x"}],
            model=MODEL,
            max_attempts=2,
            parse=lambda t: (_ for _ in ()).throw(RecursionError()),
            mock_response="{}",
        )


def test_deep_answer_goes_back_to_the_model_and_is_repaired(fake_llm):
    fake_llm.queue(DEEP, '{"n": 3}')
    value = complete_structured(
        [{"role": "user", "content": "a number"}],
        model=MODEL,
        api_base=fake_llm.url,
        api_key="test",
        timeout=5,
        parse=lambda t: parse_json_object(t)["n"],
    )
    assert value == 3
    assert len(fake_llm.requests) == 2
    *_, echoed, repair = fake_llm.requests[1].messages
    assert "levels deep" in repair["content"]
    assert len(echoed["content"]) < 25_000 and "more characters cut" in echoed["content"]  # not 400 KB back


def _catalog() -> Catalog:
    orders = Table(
        "source",
        "orders",
        "raw",
        "orders",
        source_name="shop",
        primary_key="id",
        row_count=10,
        columns=[Column("id", "INTEGER"), Column("amount", "DOUBLE"), Column("status", "VARCHAR")],
    )
    return Catalog(tables=[orders])


def test_every_planner_rejects_a_deep_answer(fake_llm):
    from martsmith.inference.rules_llm import assign_rules_llm
    from martsmith.plan.llm import plan_with_llm
    from martsmith.star.plan_llm import plan_star_llm

    cat = _catalog()
    kw = {"model": MODEL, "api_base": fake_llm.url, "api_key": "test", "timeout": 5, "max_attempts": 2}
    calls = [
        lambda: plan_with_llm("orders per status", cat, **kw),
        lambda: plan_star_llm(cat, "orders as the fact", source="shop", **kw),
        lambda: assign_rules_llm(["amount is never negative"], cat.tables, cat, **kw),
    ]
    for call in calls:
        fake_llm.queue(DEEP, DEEP_OBJECTS)
        with pytest.raises(LLMError) as info:
            call()
        assert "gave no valid" in info.value.message and "levels deep" in info.value.message
    assert len(fake_llm.requests) == 6


# --- through the CLI -----------------------------------------------------------------------


def _one_line_error(result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, RecursionError), result.exception
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output


@pytest.fixture
def llm_env(fake_llm, monkeypatch):
    monkeypatch.setenv(llm_json.API_BASE_ENV, fake_llm.url)
    monkeypatch.setenv(llm_json.API_KEY_ENV, "test")
    return fake_llm


GOOD_MODEL = json.dumps(
    {
        "name": "orders_per_status",
        "description": "One row per order status: number of orders.",
        "inputs": [{"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}],
        "dimensions": [{"name": "status", "input": "orders", "column": "status"}],
        "measures": [{"name": "order_count", "agg": "count", "input": "orders"}],
        "grain": ["status"],
    }
)


@pytest.mark.integration
def test_cli_deep_answers_are_repaired_or_one_line(sample_project: Path, llm_env):
    from martsmith.cli import main

    where = ["--project-dir", str(sample_project)]
    runner = CliRunner()
    # model: repaired on the second call
    llm_env.queue(DEEP, GOOD_MODEL)
    ok = runner.invoke(main, ["model", "orders per status", "--llm", MODEL, "--dry-run", *where])
    assert ok.exit_code == 0, ok.output
    assert "orders_per_status" in ok.output and "accepted after 2 calls" in ok.output
    # model, star, tests --rules: never repaired -> one line, exit 5
    commands = [
        ["model", "orders per status", "--llm", MODEL, "--dry-run"],
        ["star", "order lines as the fact with products", "--llm", MODEL, "--dry-run"],
        ["tests", "source:shop.orders", "--rules", "amount is never negative", "--llm", MODEL, "--dry-run"],
    ]
    for args in commands:
        llm_env.queue(DEEP, DEEP_OBJECTS, DEEP)
        result = runner.invoke(main, [*args, *where])
        _one_line_error(result, 5)
        assert "levels deep" in result.output
    assert sys.getrecursionlimit() >= 1000  # nothing raised it to get by
