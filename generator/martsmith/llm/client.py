"""Structured answers from any litellm model: messages in, a validated value out.

`complete_structured` is the machinery every llm planner shares (models, star schemas, rules ->
tests): it calls the model, parses its answer with the caller's `parse`, runs the caller's
`check`, and sends every problem back so the model can fix it, at most `max_attempts` calls in
all. Provider failures (no key, timeout, auth, rate limit, ...) become one `LLMError` line that
says what to do. litellm is imported only when a call is made: importing it takes seconds and
`martsmith --help` must not pay for it.

Settings, besides the arguments: MARTSMITH_LLM_API_BASE, MARTSMITH_LLM_API_KEY, and the provider
variables litellm reads itself (OPENAI_API_KEY, ANTHROPIC_API_KEY, OLLAMA_API_BASE, ...).

>>> complete_structured([{"role": "user", "content": "a number"}], model="openai/any",
...     parse=lambda text: parse_json_object(text)["n"], mock_response='{"n": 3}')
3
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

from pydantic import ValidationError

from martsmith.errors import LLMError, UsageError
from martsmith.validate.findings import Finding

API_BASE_ENV = "MARTSMITH_LLM_API_BASE"
API_KEY_ENV = "MARTSMITH_LLM_API_KEY"
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "vllm", "lm_studio", "llamafile"})
RATE_LIMIT_RETRIES = 2  # extra calls after a 429, within the attempt budget
RATE_LIMIT_BACKOFF = 2.0  # seconds before the first retry; doubles after each
MAX_ANSWER_CHARS = 1_000_000  # a longer answer is rejected unread: no spec needs a megabyte
MAX_ANSWER_DEPTH = 64  # nesting of objects and arrays; json.loads recurses, and pydantic too
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
    timeout: float
    api_base: str | None
    api_key: str | None
    mock_response: str | None


def complete_structured(
    messages: list[dict],
    *,
    model: str,
    parse: Callable[[str], T],
    check: Callable[[T], list[str]] | None = None,
    max_attempts: int = 3,
    timeout: float = 60,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
    what: str = "answer",
    hint: str = "Rephrase the request, use a stronger model, or raise the number of attempts.",
    repair: Callable[[list[str]], str] | None = None,
    backoff: float | None = None,
) -> T:
    """Ask `model` until an answer passes `parse` and `check`; return the parsed value.

    `parse(text)` turns the answer into a value or raises `ValueError` (one error),
    `AnswerRejected` (several) or pydantic's `ValidationError` (one per field); `check(value)`
    returns the problems left (empty: accepted). Every problem goes back to the model in a repair
    turn (`repair(errors)`, default `REPAIR_PROMPT`). Raises `LLMError` when the model cannot be
    reached, or gives no acceptable `what` within `max_attempts` calls (`hint` says what to do).
    `mock_response` answers every call with that text, offline (litellm's own mock).
    """
    if max_attempts < 1:
        raise UsageError(f"max_attempts must be at least 1, got {max_attempts}.")
    api_base = api_base or os.environ.get(API_BASE_ENV) or None
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    backoff = RATE_LIMIT_BACKOFF if backoff is None else backoff
    repair = repair or (lambda errors: REPAIR_PROMPT.format(errors="\n".join(f"- {e}" for e in errors)))

    litellm = import_litellm()
    if mock_response is None:
        check_credentials(litellm, model, api_base=api_base, api_key=api_key)
    kwargs = _call_kwargs(
        litellm, model, timeout=timeout, api_base=api_base, api_key=api_key, mock_response=mock_response
    )

    errors: list[str] = []
    calls = rate_limited = 0
    while calls < max_attempts:
        calls += 1
        try:
            text = _complete(litellm, messages, kwargs)
        except litellm.RateLimitError as exc:
            if rate_limited >= RATE_LIMIT_RETRIES or calls >= max_attempts:
                raise LLMError(
                    f"{model} is rate limited (HTTP 429) after {calls} call(s): {_one_line(exc)}",
                    hint="Wait a minute and retry, or use a model or key with a higher limit.",
                ) from None
            time.sleep(backoff * 2**rate_limited)
            rate_limited += 1
            continue
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes one line
            raise llm_error(litellm, exc, model, api_base, timeout) from None

        try:
            return _accept(text, parse, check)
        except _Rejected as exc:
            errors = exc.errors
        messages = [
            *messages,
            {"role": "assistant", "content": _echo(text)},
            {"role": "user", "content": repair(errors)},
        ]

    shown = "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
    raise LLMError(
        f"{model} gave no valid {what} in {max_attempts} attempt(s); last errors: {shown}",
        hint=hint,
        findings=[Finding("llm", e) for e in errors[:MAX_FINDINGS]],
    )


class _Rejected(Exception):
    """`_accept`'s verdict on an answer: the problems to send back to the model."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


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


# --- answer text -> data ---------------------------------------------------------------------


def _too_deep(max_depth: int = MAX_ANSWER_DEPTH) -> str:
    return f"the answer nests objects or arrays more than {max_depth} levels deep: reply with a flatter JSON object"


TOO_DEEP = _too_deep()


def parse_json_object(text: str, *, max_chars: int = MAX_ANSWER_CHARS, max_depth: int = MAX_ANSWER_DEPTH) -> dict:
    """The JSON object in a model's answer: fences and prose around it are tolerated.

    An answer longer than `max_chars` or nesting deeper than `max_depth` is refused with a
    `ValueError` before `json` sees it (the C parser recurses: a deep answer would raise
    `RecursionError`), so it goes back to the model like any invalid answer.

    >>> parse_json_object('Sure! ```json\\n{"name": "x"}\\n``` Hope it helps.')
    {'name': 'x'}
    >>> parse_json_object('{"a": ' * 100 + '1' + '}' * 100)
    Traceback (most recent call last):
    ...
    ValueError: the answer nests objects or arrays more than 64 levels deep: reply with a flatter JSON object
    """
    if not text or not text.strip():
        raise ValueError("the answer was empty: reply with one JSON object")
    if len(text) > max_chars:
        raise ValueError(
            f"the answer is {len(text):,} characters long, more than the {max_chars:,} allowed: "
            "reply with one concise JSON object"
        )
    fenced = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", text, re.DOTALL)
    body = fenced.group(1) if fenced and "{" in fenced.group(1) else text
    start = body.find("{")
    if start < 0:
        raise ValueError("the answer contains no JSON object: reply with one JSON object only")
    if json_depth(body, start) > max_depth:
        raise ValueError(_too_deep(max_depth))
    try:
        value, _ = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON: {exc}") from None
    except RecursionError:  # not reached after the depth check; kept as the last line of defence
        raise ValueError(TOO_DEEP) from None
    if not isinstance(value, dict):
        raise ValueError("the answer must be a JSON object")
    return value


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')  # a string (maybe unterminated), or a bracket


def json_depth(text: str, start: int = 0) -> int:
    """The deepest nesting of `[`/`{` in the JSON value that starts at `start`, read without
    recursion (brackets inside strings don't count); stops where that value closes.

    >>> json_depth('{"a": [1, {"b": "[[\\\\"[["}]} [[[[[')
    3
    """
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text, start):
        token = m.group()
        if token == "[" or token == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif token == "]" or token == "}":
            depth -= 1
            if depth <= 0:
                break
    return deepest


def validation_errors(exc: ValidationError) -> list[str]:
    """Pydantic errors as sentences that name the field: 'measures[0].agg: Input should be ...'."""
    out = []
    for err in exc.errors(include_url=False):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {err['loc'][-1]!r} is not allowed (see the JSON Schema)"
            where = where.rsplit(".", 1)[0] if "." in where else ""
        out.append(f"{where}: {msg}" if where else msg)
    return out


def without_titles(node: Any) -> Any:
    """Pydantic's generated titles repeat the field names: drop them to save prompt tokens."""
    if isinstance(node, dict):
        return {k: without_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [without_titles(v) for v in node]
    return node


# --- litellm ----------------------------------------------------------------------------------


def import_litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else it fetches a cost map
    import litellm

    litellm.suppress_debug_info = True
    if hasattr(litellm, "telemetry"):
        litellm.telemetry = False
    for logger in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    return litellm


def _call_kwargs(
    litellm, model: str, *, timeout: float, api_base: str | None, api_key: str | None, mock_response: str | None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model,
        "temperature": 0,
        "timeout": timeout,
        "max_retries": 0,  # retries are ours: bounded by max_attempts
        "drop_params": True,  # e.g. a model that refuses `temperature` gets the call anyway
    }
    if api_base:
        kwargs["api_base"] = api_base
    if api_key:
        kwargs["api_key"] = api_key
    if mock_response is not None:
        kwargs["mock_response"] = mock_response
    if _supports_json_mode(litellm, model):
        kwargs["response_format"] = {"type": "json_object"}
    return kwargs


def _provider(litellm, model: str) -> str:
    try:
        return litellm.get_llm_provider(model)[1]
    except Exception:  # noqa: BLE001 - litellm raises BadRequestError for an unknown provider
        raise LLMError(
            f"litellm does not know which provider serves {model!r}.",
            hint="Prefix the model with its provider, e.g. openai/gpt-4.1-mini, "
            "anthropic/claude-sonnet-4-5, ollama/llama3.1, hosted_vllm/<model>.",
        ) from None


def check_credentials(litellm, model: str, *, api_base: str | None, api_key: str | None) -> None:
    """Fail before any network call when the provider needs a key that nobody gave."""
    provider = _provider(litellm, model)
    if api_base or api_key or provider in LOCAL_PROVIDERS:
        return  # a local or self-hosted server: whatever key it wants was given, or none is needed
    try:
        missing = litellm.validate_environment(model).get("missing_keys") or []
    except Exception:  # noqa: BLE001 - unknown to litellm: let the call itself tell
        return
    if missing:
        raise LLMError(
            f"No credentials for {model}: set {' and '.join(missing)} (or {API_KEY_ENV}).",
            hint=f"For a local or self-hosted OpenAI-compatible server, set {API_BASE_ENV} "
            "(or pass the API base) instead.",
        )


def _supports_json_mode(litellm, model: str) -> bool:
    try:
        _, provider, _, _ = litellm.get_llm_provider(model)
        params = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
    except Exception:  # noqa: BLE001 - unknown: don't ask for it
        return False
    return "response_format" in params


def _complete(litellm, messages: list[dict], kwargs: dict) -> str:
    response = litellm.completion(messages=messages, **kwargs)
    try:
        return response.choices[0].message.content or ""
    except (AttributeError, IndexError):
        return ""


def _one_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    text = re.sub(r"^(litellm\.)?\w+Error: (\w+Error: )?", "", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _caused_by(exc: BaseException, *names: str) -> bool:
    """Whether `exc` or an exception it was raised from has a class named with one of `names`."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if any(n in type(node).__name__ for n in names):
            return True
        node = node.__cause__ or node.__context__
    return False


def llm_error(litellm, exc: Exception, model: str, api_base: str | None, timeout: float) -> LLMError:
    """One readable line (and what to do) for a provider failure."""
    where = api_base or "the provider"
    detail = _one_line(exc)
    if isinstance(exc, litellm.Timeout) or _caused_by(exc, "Timeout"):
        return LLMError(
            f"{model} did not answer within the timeout of {timeout:g} s ({where}).",
            hint="Retry, raise the timeout, or check that the server is up and not overloaded.",
        )
    # litellm reports a refused connection as an InternalServerError ("Connection error.").
    if isinstance(exc, litellm.APIConnectionError) or _caused_by(exc, "ConnectError", "APIConnectionError"):
        return LLMError(
            f"Could not connect to {where} for {model}: {detail}",
            hint=f"Check the network, the API base ({API_BASE_ENV}) and that the server is running.",
        )
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return LLMError(
            f"Authentication failed for {model} (API key rejected): {detail}",
            hint=f"Check the provider's API key variable (e.g. OPENAI_API_KEY) or {API_KEY_ENV}.",
        )
    if isinstance(exc, litellm.NotFoundError):
        return LLMError(
            f"Model {model} was not found at {where}: {detail}",
            hint="Check the model name (provider/model) and that your key has access to it.",
        )
    if isinstance(exc, litellm.ContextWindowExceededError):
        return LLMError(
            f"The prompt is too long for {model}: {detail}",
            hint="Use a model with a larger context window, or a more specific request.",
        )
    if isinstance(exc, litellm.BadRequestError):
        return LLMError(
            f"{model} rejected the request (bad request): {detail}",
            hint="Check the model name and provider prefix, e.g. openai/gpt-4.1-mini.",
        )
    status = getattr(exc, "status_code", None)
    return LLMError(
        f"{model} failed{f' with HTTP {status}' if status else ''}: {detail or type(exc).__name__}",
        hint="Retry later; if it persists, try another model or provider.",
    )
