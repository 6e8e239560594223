"""Structured answers from any litellm model: messages in, a validated value out.

`Conversation` is the machinery every llm planner shares (models, star schemas, rules -> tests):
it calls the model, parses its answer with the caller's `parse`, runs the caller's `check`, and
sends every problem back so the model can fix it, at most `max_attempts` answers in all. A caller
with checks that run later (lint, dbt) keeps the conversation and sends their findings with
`reject(errors)`: the same budget covers every check. `complete_structured` is the one-shot form.

Each call (`Chat.ask`): the answer cache first (llm/cache.py); else the model, asked for a JSON
Schema-constrained answer where litellm says the provider supports one, else a JSON object, else
plain text read tolerantly (a provider that rejects a format gets the next one); 429 and 5xx
answers are retried with backoff, honouring `Retry-After`; tokens and cost go to the run's usage
ledger (llm/usage.py). Provider failures (no key, timeout, auth, ...) become one `LLMError`
line that says what to do. litellm is imported only when a call is made: importing it takes
seconds and `martsmith --help` must not pay for it.

Settings, besides the arguments: llm/settings.py (timeout, retries, attempts, format, cache),
MARTSMITH_LLM_API_BASE, MARTSMITH_LLM_API_KEY, and the provider variables litellm reads itself
(OPENAI_API_KEY, ANTHROPIC_API_KEY, OLLAMA_API_BASE, ...).

>>> complete_structured([{"role": "user", "content": "a number"}], model="openai/any",
...     parse=lambda text: parse_json_object(text)["n"], mock_response='{"n": 3}')
3
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Generic, TypedDict, TypeVar

from pydantic import ValidationError

from martsmith.errors import LLMError, UsageError
from martsmith.llm import settings as llm_settings
from martsmith.llm import usage
from martsmith.llm.answers import (  # noqa: F401 - re-exported: the planners' answer helpers
    MAX_ANSWER_CHARS,
    MAX_ANSWER_DEPTH,
    TOO_DEEP,
    json_depth,
    parse_json_object,
    validation_errors,
    without_titles,
)
from martsmith.llm.cache import AnswerCache, cache_key, prompt_hash
from martsmith.llm.provider import (  # noqa: F401 - re-exported: the settings and errors of every planner
    API_BASE_ENV,
    API_KEY_ENV,
    check_credentials,
    content_of,
    cost_of,
    exhausted,
    import_litellm,
    llm_error,
    rejects_format,
    response_formats,
    retry_after,
    retryable,
    status_text,
    tokens_of,
)
from martsmith.llm.settings import MAX_RETRY_AFTER, LLMSettings, default_cache_dir
from martsmith.validate.findings import Finding

RATE_LIMIT_BACKOFF = 2.0  # seconds before the first retry without Retry-After; doubles after each
MAX_BACKOFF = 60.0
MAX_FINDINGS = 50  # problems of the last answer kept in the error (a broken answer may have thousands)
ECHO_ANSWER_CHARS = 20_000  # how much of a rejected answer goes back to the model in a repair turn
REPAIR_PROMPT = """\
Your answer was not accepted:
{errors}
Fix these problems and reply again with the complete corrected JSON object only."""

T = TypeVar("T")


class AnswerRejected(ValueError):
    """Raised by a `parse` callback to reject an answer with several errors at once."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


class Provider(TypedDict):
    """How to reach a model, passed through to `complete_structured` by every planner."""

    model: str
    timeout: float | None
    api_base: str | None
    api_key: str | None
    mock_response: str | None


class Chat:
    """One conversation's calls to one model: messages so far, the answer format in use, retries,
    the cache and the usage ledger. `ask()` returns the next answer's text."""

    def __init__(
        self,
        messages: list[dict],
        *,
        model: str,
        settings: LLMSettings | None = None,
        timeout: float | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        mock_response: str | None = None,
        schema: dict | None = None,
        schema_name: str = "answer",
        backoff: float | None = None,
    ) -> None:
        self.settings = settings or llm_settings.current()
        self.model = model
        self.messages = list(messages)
        self.timeout = timeout if timeout is not None else self.settings.timeout_for(model)
        self.api_base = api_base or os.environ.get(API_BASE_ENV) or None
        self.api_key = api_key or os.environ.get(API_KEY_ENV) or None
        self.mock_response = mock_response
        self.backoff = RATE_LIMIT_BACKOFF if backoff is None else backoff
        self.prompt_sha256 = prompt_hash(self.messages)
        self.litellm = import_litellm()
        if mock_response is None:
            check_credentials(self.litellm, model, api_base=self.api_base, api_key=self.api_key)
        self.formats = response_formats(self.litellm, model, self.settings.response_format, schema, schema_name)
        self.cache = None if mock_response is not None else AnswerCache(self.settings.cache_dir or default_cache_dir())
        self._pending: list[tuple[str, str, int, int]] = []  # answers not cached yet (key, text, tokens)
        usage.record_prompt(self.prompt_sha256)

    @property
    def response_format(self) -> dict | None:
        """What the next call asks for: a JSON Schema, a JSON object, or None (plain text)."""
        return self.formats[0]

    def add(self, role: str, content: str) -> None:
        self.messages.append({"role": role, "content": content})

    def ask(self) -> str:
        """The answer to the messages so far (from the cache when it has it)."""
        key = cache_key(self.model, self.messages)
        if self.cache is not None and self.settings.read_cache:
            hit = self.cache.get(key)
            if hit is not None:
                usage.record(self.model, cached=True)
                return hit["answer"]
        response = self._call()
        text = content_of(response)
        prompt_tokens, completion_tokens = tokens_of(response)
        usage.record(
            self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost_of(self.litellm, response) if self.mock_response is None else 0.0,
        )
        self._pending.append((key, text, prompt_tokens, completion_tokens))
        return text

    def commit(self) -> None:
        """Cache every answer of the conversation so far: called once an answer is accepted, so a
        rerun replays the same turns for free, and a conversation that failed is asked afresh."""
        if self.cache is not None:
            for key, text, prompt_tokens, completion_tokens in self._pending:
                self.cache.put(key, self.model, text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        self._pending.clear()

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are ours (`_call`): Retry-After honoured, the same for every provider
            "drop_params": True,  # e.g. a model that refuses `temperature` gets the call anyway
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        if self.mock_response is not None:
            kwargs["mock_response"] = self.mock_response
        if self.response_format is not None:
            kwargs["response_format"] = self.response_format
        return kwargs

    def _call(self) -> Any:
        """One completion: retried after 429/5xx (Retry-After, else backoff), and asked again with
        the next answer format when the provider rejects the one asked for."""
        litellm = self.litellm
        retried = 0
        while True:
            try:
                return litellm.completion(messages=self.messages, **self._kwargs())
            except litellm.ContextWindowExceededError as exc:
                raise llm_error(litellm, exc, self.model, self.api_base, self.timeout) from None
            except litellm.BadRequestError as exc:
                if len(self.formats) > 1 and self.response_format is not None and rejects_format(exc):
                    self.formats = self.formats[1:]  # e.g. "response_format json_schema is not supported"
                    continue
                raise llm_error(litellm, exc, self.model, self.api_base, self.timeout) from None
            except Exception as exc:  # noqa: BLE001 - every provider failure becomes one line
                if not retryable(litellm, exc):
                    raise llm_error(litellm, exc, self.model, self.api_base, self.timeout) from None
                wait = retry_after(exc)
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise LLMError(
                        f"{self.model} asks to wait {wait:g} s before the next call ({status_text(exc)}).",
                        hint="Retry later, or use a model or key with a higher limit.",
                    ) from None
                if retried >= self.settings.retries:
                    raise exhausted(exc, self.model, retried) from None
                time.sleep(wait if wait is not None else min(self.backoff * 2**retried, MAX_BACKOFF))
                retried += 1


class _Rejected(Exception):
    """`_accept`'s verdict on an answer: the problems to send back to the model."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Conversation(Generic[T]):
    """A model asked for one `what` until an answer passes `parse` and `check`, then, while
    `reject(errors)` is called with what later checks found, asked to fix it: at most
    `max_attempts` answers in all (default: MARTSMITH_LLM_MAX_ATTEMPTS)."""

    def __init__(
        self,
        messages: list[dict],
        *,
        model: str,
        parse: Callable[[str], T],
        check: Callable[[T], list[str]] | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        mock_response: str | None = None,
        what: str = "answer",
        hint: str = "Rephrase the request, use a stronger model, or raise MARTSMITH_LLM_MAX_ATTEMPTS.",
        repair: Callable[[list[str]], str] | None = None,
        backoff: float | None = None,
        schema: dict | None = None,
        schema_name: str = "answer",
        settings: LLMSettings | None = None,
    ) -> None:
        settings = settings or llm_settings.current()
        self.max_attempts = settings.max_attempts if max_attempts is None else max_attempts
        if self.max_attempts < 1:
            raise UsageError(f"max_attempts must be at least 1, got {self.max_attempts}.")
        self.chat = Chat(
            messages,
            model=model,
            settings=settings,
            timeout=timeout,
            api_base=api_base,
            api_key=api_key,
            mock_response=mock_response,
            schema=schema,
            schema_name=schema_name,
            backoff=backoff,
        )
        self.model = model
        self.parse, self.check = parse, check
        self.what, self.hint = what, hint
        self.repair = repair or (lambda errors: REPAIR_PROMPT.format(errors="\n".join(f"- {e}" for e in errors)))
        self.calls = 0
        self._last_text: str | None = None

    @property
    def prompt_sha256(self) -> str:
        return self.chat.prompt_sha256

    @property
    def attempts_left(self) -> int:
        return self.max_attempts - self.calls

    def answer(self) -> T:
        """The first answer that passes `parse` and `check`; raises `LLMError` when the model
        cannot be reached or gives none within the attempts left."""
        errors: list[str] = []
        while self.calls < self.max_attempts:
            self.calls += 1
            text = self.chat.ask()
            try:
                value = _accept(text, self.parse, self.check)
            except _Rejected as exc:
                errors = exc.errors
                self._send_back(text, errors)
                continue
            self._last_text = text
            self.chat.commit()
            return value
        raise self._failed(errors)

    def reject(self, errors: list[str]) -> T:
        """Send `errors` (what later checks found in the accepted answer) back, and return the
        next acceptable answer; raises `LLMError` when no attempt is left."""
        if self._last_text is None:
            raise UsageError("reject() needs an accepted answer first.")
        if self.attempts_left <= 0:
            raise self._failed(errors)
        self._send_back(self._last_text, errors)
        self._last_text = None
        return self.answer()

    def _send_back(self, text: str, errors: list[str]) -> None:
        self.chat.add("assistant", _echo(text))
        self.chat.add("user", self.repair(errors))

    def _failed(self, errors: list[str]) -> LLMError:
        shown = "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
        return LLMError(
            f"{self.model} gave no valid {self.what} in {self.max_attempts} attempt(s); last errors: {shown}",
            hint=self.hint,
            findings=[Finding("llm", e) for e in errors[:MAX_FINDINGS]],
        )


def complete_structured(messages: list[dict], *, model: str, parse: Callable[[str], T], **options: Any) -> T:
    """Ask `model` until an answer passes `parse` and `check`; return the parsed value.

    `parse(text)` turns the answer into a value or raises `ValueError` (one error),
    `AnswerRejected` (several) or pydantic's `ValidationError` (one per field); `check(value)`
    returns the problems left (empty: accepted). Every problem goes back to the model in a repair
    turn (`repair(errors)`, default `REPAIR_PROMPT`). Raises `LLMError` when the model cannot be
    reached, or gives no acceptable `what` within `max_attempts` calls (`hint` says what to do).
    `mock_response` answers every call with that text, offline (litellm's own mock). The other
    options are `Conversation`'s.
    """
    return Conversation(messages, model=model, parse=parse, **options).answer()


def _accept(text: str, parse: Callable[[str], T], check: Callable[[T], list[str]] | None) -> T:
    """The parsed and checked answer; raises `_Rejected` with every problem found."""
    try:
        value = parse(text)
    except ValidationError as exc:
        raise _Rejected(validation_errors(exc)) from None
    except AnswerRejected as exc:
        raise _Rejected(exc.errors or ["the answer was rejected"]) from None
    except ValueError as exc:
        raise _Rejected([str(exc)]) from None
    except RecursionError:  # a parser or validator that recursed through a nested answer
        raise _Rejected([TOO_DEEP]) from None
    try:
        problems = check(value) if check else []
    except RecursionError:
        raise _Rejected([TOO_DEEP]) from None
    if problems:
        raise _Rejected(list(problems))
    return value


def _echo(text: str) -> str:
    """A rejected answer as it goes back to the model: a huge one is cut (the errors say why)."""
    if not text:
        return "(empty answer)"
    if len(text) <= ECHO_ANSWER_CHARS:
        return text
    return text[:ECHO_ANSWER_CHARS] + f"\n... ({len(text) - ECHO_ANSWER_CHARS:,} more characters cut)"
