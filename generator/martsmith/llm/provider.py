"""What martsmith asks of litellm, and what its failures mean: the import (quiet, offline
cost map), credentials checked before any call, the answer formats a provider supports, which
failures are worth a retry and how long to wait (`Retry-After`), tokens and cost of a response,
and one readable `LLMError` for every other failure."""

from __future__ import annotations

import email.utils
import logging
import os
import re
import time
from typing import Any

from martsmith.errors import LLMError
from martsmith.llm.settings import LOCAL_PROVIDERS, ResponseFormat

API_BASE_ENV = "MARTSMITH_LLM_API_BASE"
API_KEY_ENV = "MARTSMITH_LLM_API_KEY"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic's "overloaded"


def import_litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else it fetches a cost map
    import litellm

    litellm.suppress_debug_info = True
    if hasattr(litellm, "telemetry"):
        litellm.telemetry = False
    for logger in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    return litellm


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


# --- answer formats --------------------------------------------------------------------------


def response_formats(
    litellm, model: str, setting: ResponseFormat, schema: dict | None, schema_name: str
) -> list[dict | None]:
    """The `response_format`s to try, best first, ending with None (plain text, parsed
    tolerantly): a JSON Schema where litellm says the model supports one, then a JSON object
    where the provider takes `response_format` at all. `setting` (MARTSMITH_LLM_RESPONSE_FORMAT)
    forces where to start."""
    json_schema = (
        {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": False}}
        if schema is not None
        else None
    )
    if setting == "text":
        return [None]
    if setting == "json_object":
        return [{"type": "json_object"}, None]
    if setting == "json_schema":
        return [f for f in (json_schema, {"type": "json_object"}) if f is not None] + [None]
    formats: list[dict | None] = []
    if json_schema is not None and _supports_schema(litellm, model):
        formats.append(json_schema)
    if _supports_json_mode(litellm, model):
        formats.append({"type": "json_object"})
    return [*formats, None]


_FORMAT_WORDS = re.compile(r"response.?format|json.?schema|json.?object|structured output|\bschema\b", re.IGNORECASE)


def rejects_format(exc: BaseException) -> bool:
    """Whether a 400 is about the answer format asked for (then the next format is tried)."""
    return bool(_FORMAT_WORDS.search(str(exc)))


def _supports_schema(litellm, model: str) -> bool:
    try:
        _, provider, _, _ = litellm.get_llm_provider(model)
        return bool(litellm.supports_response_schema(model=model, custom_llm_provider=provider))
    except Exception:  # noqa: BLE001 - unknown to litellm: don't ask for it
        return False


def _supports_json_mode(litellm, model: str) -> bool:
    try:
        _, provider, _, _ = litellm.get_llm_provider(model)
        params = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
    except Exception:  # noqa: BLE001 - unknown: don't ask for it
        return False
    return "response_format" in params


# --- retries ---------------------------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def retryable(litellm, exc: BaseException) -> bool:
    """A rate limit or an overloaded server is worth another call; a refused connection, a
    timeout, a rejected key or request are not (they would fail the same way)."""
    if isinstance(exc, litellm.Timeout) or _caused_by(exc, "Timeout"):
        return False
    if _caused_by(exc, "ConnectError", "APIConnectionError") and not isinstance(exc, litellm.RateLimitError):
        return False
    if "missing credentials" in str(exc).lower():  # the OpenAI client's, reported as a 500
        return False
    return isinstance(exc, litellm.RateLimitError) or status_of(exc) in RETRY_STATUSES


def retry_after(exc: BaseException, now: float | None = None) -> float | None:
    """Seconds the server asked to wait (`Retry-After`: seconds or an HTTP date; `retry-after-ms`),
    or None when it did not say.

    >>> class E(Exception): headers = {"Retry-After": "7"}
    >>> retry_after(E())
    7.0
    """
    headers = _headers(exc)
    if headers.get("retry-after-ms"):
        try:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def _headers(exc: BaseException) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in (getattr(getattr(exc, "response", None), "headers", None), getattr(exc, "headers", None)):
        try:
            found.update({str(k).lower(): str(v) for k, v in dict(source or {}).items()})
        except (TypeError, ValueError):
            continue
    return found


def status_text(exc: BaseException) -> str:
    status = status_of(exc)
    return f"HTTP {status}" if status else type(exc).__name__


def exhausted(exc: BaseException, model: str, retries: int) -> LLMError:
    """The error once the retries of one call are spent."""
    if status_of(exc) == 429 or "RateLimit" in type(exc).__name__:
        return LLMError(
            f"{model} is rate limited (HTTP 429) after {retries + 1} call(s): {_one_line(exc)}",
            hint="Wait a minute and retry, raise MARTSMITH_LLM_RETRIES, or use a model or key with a higher limit.",
        )
    return LLMError(
        f"{model} failed with {status_text(exc)} after {retries + 1} call(s): {_one_line(exc)}",
        hint="The provider is overloaded or down: retry later, raise MARTSMITH_LLM_RETRIES, or try another model.",
    )


# --- responses -------------------------------------------------------------------------------


def content_of(response: Any) -> str:
    try:
        return response.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        return ""


def tokens_of(response: Any) -> tuple[int, int]:
    """(prompt, completion) tokens the provider reported (0 when it did not)."""
    found = getattr(response, "usage", None)
    prompt = getattr(found, "prompt_tokens", 0) or 0
    completion = getattr(found, "completion_tokens", 0) or 0
    return int(prompt), int(completion)


def cost_of(litellm, response: Any) -> float | None:
    """Dollars, from litellm's local cost map; None when it has no price for the model."""
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # noqa: BLE001 - not mapped (a local model, a fine-tune): unpriced
        return None
