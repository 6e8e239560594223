"""llm/client.py against the fake OpenAI-compatible (and ollama) server: timeouts, retries that
honour Retry-After, answer formats and their fallback, the answer cache and the usage ledger."""

from __future__ import annotations

import json
import time

import pytest

from fakes.openai_server import FakeOpenAIServer, Reply
from martsmith.errors import LLMError, UsageError
from martsmith.llm import client, usage
from martsmith.llm.client import Conversation, complete_structured, parse_json_object
from martsmith.llm.settings import LLMSettings, use

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
MESSAGES = [{"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "a number"}]


def number(text: str) -> int:
    value = parse_json_object(text).get("n")
    if not isinstance(value, int):
        raise ValueError("n must be an integer")
    return value


def ask(fake: FakeOpenAIServer, model: str = "openai/fake-model", **options) -> int:
    options.setdefault("api_base", fake.url)
    return complete_structured(MESSAGES, model=model, parse=number, api_key="test", schema=SCHEMA, **options)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(client, "RATE_LIMIT_BACKOFF", 0.01)
    for var in ("MARTSMITH_LLM_API_BASE", "MARTSMITH_LLM_API_KEY", "MARTSMITH_LLM_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)


# --- timeouts ------------------------------------------------------------------------------------


def test_a_slow_answer_within_a_raised_timeout(fake_llm, monkeypatch):
    fake_llm.queue(Reply('{"n": 1}', delay=1.5))
    with pytest.raises(LLMError, match="within the timeout of 0.5 s"):
        ask(fake_llm, timeout=0.5)
    fake_llm.queue(Reply('{"n": 2}', delay=1.5))
    monkeypatch.setenv("MARTSMITH_LLM_TIMEOUT", "10")
    assert ask(fake_llm) == 2


def test_a_slow_local_model_gets_the_longer_default(fake_llm):
    """ollama's own API, as litellm's ollama_chat provider calls it: no timeout given, the local
    default (600 s) applies, so a slow answer is waited for."""
    fake_llm.queue(Reply('{"n": 7}', delay=1.0))
    with use(LLMSettings()):
        assert ask(fake_llm, model="ollama_chat/llama3.1", api_base=fake_llm.root) == 7
    (request,) = fake_llm.requests
    assert request.path == "/api/chat" and request.body["format"] == "json"


def test_ollama_generate_endpoint(fake_llm):
    fake_llm.queue('{"n": 3}')
    assert ask(fake_llm, model="ollama/llama3.1", api_base=fake_llm.root) == 3
    assert fake_llm.requests[0].path == "/api/generate" and "a number" in fake_llm.requests[0].text


# --- retries -------------------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(fake_llm):
    fake_llm.queue(Reply(status=429, headers={"retry-after": "1"}), '{"n": 4}')
    start = time.perf_counter()
    assert ask(fake_llm) == 4
    assert time.perf_counter() - start >= 1.0
    assert len(fake_llm.requests) == 2


def test_retries_do_not_use_up_repair_attempts(fake_llm):
    fake_llm.queue(429, 503, '{"n": 5}')
    assert ask(fake_llm, max_attempts=1) == 5
    assert len(fake_llm.requests) == 3


def test_a_wait_longer_than_allowed_fails_at_once(fake_llm):
    fake_llm.queue(Reply(status=429, headers={"retry-after": "3600"}))
    with pytest.raises(LLMError, match="asks to wait 3600 s"):
        ask(fake_llm)
    assert len(fake_llm.requests) == 1


def test_retries_are_bounded(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_RETRIES", "1")
    fake_llm.queue(503, 503, '{"n": 1}')
    with pytest.raises(LLMError, match="HTTP 503 after 2 call"):
        ask(fake_llm)
    assert len(fake_llm.requests) == 2


def test_retry_after_as_an_http_date():
    class Limited(Exception):
        headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}

    assert client.retry_after(Limited(), now=1445412470.0) == 10.0


# --- answer formats ------------------------------------------------------------------------------


def test_schema_constrained_output_where_litellm_says_it_is_supported(fake_llm):
    fake_llm.queue('{"n": 6}')
    assert ask(fake_llm, model="openai/gpt-4.1-mini", schema_name="number") == 6
    fmt = fake_llm.requests[0].body["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "number", "schema": SCHEMA, "strict": False}}


def test_json_object_where_only_json_mode_is_supported(fake_llm):
    fake_llm.queue('{"n": 6}')
    ask(fake_llm)  # openai/fake-model: litellm knows no schema support for it
    assert fake_llm.requests[0].body["response_format"] == {"type": "json_object"}


def test_a_server_rejecting_json_schema_gets_json_object():
    with FakeOpenAIServer(rejects_formats={"json_schema"}) as fake:
        fake.queue('{"n": 8}')
        assert ask(fake, model="openai/gpt-4.1-mini") == 8
        asked = [r.body.get("response_format", {}).get("type") for r in fake.requests]
    assert asked == ["json_schema", "json_object"]


def test_a_server_rejecting_every_format_gets_plain_text_read_tolerantly():
    with FakeOpenAIServer(rejects_formats={"json_schema", "json_object"}) as fake:
        fake.queue('Here you go:\n```json\n{"n": 9}\n```')
        assert ask(fake, model="openai/gpt-4.1-mini") == 9
        asked = [r.body.get("response_format", {}).get("type") for r in fake.requests]
    assert asked == ["json_schema", "json_object", None]


@pytest.mark.parametrize("setting, expected", [("text", None), ("json_object", "json_object")])
def test_the_format_can_be_forced(fake_llm, monkeypatch, setting, expected):
    monkeypatch.setenv("MARTSMITH_LLM_RESPONSE_FORMAT", setting)
    fake_llm.queue('{"n": 1}')
    ask(fake_llm, model="openai/gpt-4.1-mini")
    assert fake_llm.requests[0].body.get("response_format", {}).get("type") == expected


def test_an_unrelated_bad_request_is_not_retried_in_another_format(fake_llm):
    fake_llm.queue(400)
    with pytest.raises(LLMError, match="bad request"):
        ask(fake_llm, model="openai/gpt-4.1-mini")
    assert len(fake_llm.requests) == 1


# --- the cache -----------------------------------------------------------------------------------


@pytest.fixture
def cache_on(monkeypatch, llm_cache_dir):
    monkeypatch.delenv("MARTSMITH_LLM_NO_CACHE", raising=False)
    return llm_cache_dir


def test_a_rerun_is_answered_from_the_cache(fake_llm, cache_on):
    fake_llm.queue('{"n": "x"}', '{"n": 10}')  # rejected, then accepted: both turns are cached
    with usage.ledger() as first:
        assert ask(fake_llm) == 10
    with usage.ledger() as second:
        assert ask(fake_llm) == 10
    assert len(fake_llm.requests) == 2
    assert (first.calls, first.cached, second.calls, second.cached) == (2, 0, 2, 2)
    assert second.tokens == 0 and second.line().startswith("llm: 2 calls (2 cached)")


def test_no_cache_asks_again_and_refreshes(fake_llm, cache_on):
    fake_llm.queue('{"n": 1}', '{"n": 2}')
    assert ask(fake_llm) == 1
    with use(LLMSettings.from_env().with_options(no_cache=True)):
        assert ask(fake_llm) == 2
    assert ask(fake_llm) == 2  # the newer answer replaced the older one
    assert len(fake_llm.requests) == 2


def test_a_failed_conversation_is_not_cached(fake_llm, cache_on):
    fake_llm.queue(*['{"n": "x"}'] * 2, '{"n": 3}')
    with pytest.raises(LLMError, match="no valid answer in 2 attempt"):
        ask(fake_llm, max_attempts=2)
    assert ask(fake_llm, max_attempts=2) == 3  # asked afresh
    assert not list(cache_on.rglob("*.tmp*"))


def test_the_cache_key_is_the_model_and_the_prompt(fake_llm, cache_on):
    fake_llm.queue('{"n": 1}', '{"n": 2}')
    assert ask(fake_llm, model="openai/fake-model") == 1
    assert ask(fake_llm, model="openai/other-model") == 2


# --- usage and conversations ---------------------------------------------------------------------


def test_usage_counts_tokens_and_prices_known_models(fake_llm):
    fake_llm.queue('{"n": 1}', '{"n": 2}')
    with usage.ledger() as spent:
        ask(fake_llm, model="openai/gpt-4.1-mini")
        ask(fake_llm)  # not in litellm's cost map
    data = spent.as_dict()
    assert (data["calls"], data["prompt_tokens"], data["completion_tokens"]) == (2, 20, 20)
    assert data["cost_usd"] > 0 and "some calls unpriced" in spent.line()
    assert data["models"] == ["openai/gpt-4.1-mini", "openai/fake-model"] and len(data["prompt_sha256"]) == 1


def test_unpriced_usage_says_so(fake_llm):
    fake_llm.queue('{"n": 1}')
    with usage.ledger() as spent:
        ask(fake_llm)
    assert spent.as_dict()["cost_usd"] is None and "cost unknown" in spent.line()


def test_reject_continues_the_conversation_within_the_same_budget(fake_llm):
    fake_llm.queue('{"n": 1}', '{"n": 2}')
    talk = Conversation(
        MESSAGES, model="openai/fake-model", parse=number, api_base=fake_llm.url, api_key="test", max_attempts=2
    )
    assert talk.answer() == 1
    assert talk.reject(["lint, line 3 `count(*)`: AL03: Column expression without alias."]) == 2
    repair = fake_llm.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"n": 1}'}
    assert "line 3 `count(*)`" in repair[-1]["content"]
    with pytest.raises(LLMError, match="in 2 attempt"):
        talk.reject(["still wrong"])
    assert len(fake_llm.requests) == 2


def test_bad_settings_are_usage_errors(monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_MAX_ATTEMPTS", "0")
    with pytest.raises(UsageError, match="MARTSMITH_LLM_MAX_ATTEMPTS must be a whole number of at least 1"):
        LLMSettings.from_env()
    monkeypatch.setenv("MARTSMITH_LLM_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("MARTSMITH_LLM_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="MARTSMITH_LLM_TIMEOUT must be a number of seconds"):
        LLMSettings.from_env()
    monkeypatch.setenv("MARTSMITH_LLM_TIMEOUT", "30")
    monkeypatch.setenv("MARTSMITH_LLM_RESPONSE_FORMAT", "xml")
    with pytest.raises(UsageError, match="not a response format"):
        LLMSettings.from_env()


def test_max_attempts_from_the_environment(fake_llm, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LLM_MAX_ATTEMPTS", "4")
    fake_llm.queue(*['{"n": "x"}'] * 4)
    with pytest.raises(LLMError, match="in 4 attempt"):
        ask(fake_llm)
    assert len(fake_llm.requests) == 4
    assert json.loads(fake_llm.requests[3].messages[-2]["content"]) == {"n": "x"}
