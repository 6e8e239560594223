"""The llm planner: request -> `ModelSpec` through any litellm model, with a bounded repair loop.

The model gets a pruned schema context and the JSON contract (see `martsmith.plan.prompt`); its
answer is parsed (fences and prose around the JSON are tolerated), validated into a strict
`ModelSpec` and checked; every problem is sent back so the model can fix it, at most
`max_attempts` calls in all. litellm is imported only when a plan is made: importing it takes
seconds and `martsmith --help` must not pay for it.

Settings, besides the arguments: MARTSMITH_LLM_API_BASE, MARTSMITH_LLM_API_KEY, and the provider
variables litellm reads itself (OPENAI_API_KEY, ANTHROPIC_API_KEY, OLLAMA_API_BASE, ...).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any, Callable

from pydantic import ValidationError

from martsmith.context.catalog import Catalog
from martsmith.errors import LLMError, UsageError
from martsmith.plan.prompt import TOOL_FIELDS, build_messages, repair_message
from martsmith.spec import ModelSpec, check_identifier
from martsmith.validate.findings import Finding

API_BASE_ENV = "MARTSMITH_LLM_API_BASE"
API_KEY_ENV = "MARTSMITH_LLM_API_KEY"
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "vllm", "lm_studio", "llamafile"})
RATE_LIMIT_RETRIES = 2  # extra calls after a 429, within the attempt budget
RATE_LIMIT_BACKOFF = 2.0  # seconds before the first retry; doubles after each

Check = Callable[[ModelSpec], "list[Finding]"]


def plan_with_llm(
    request: str,
    catalog: Catalog,
    *,
    model: str,
    name: str | None = None,
    check: Check | None = None,
    max_attempts: int = 3,
    timeout: float = 60,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
) -> ModelSpec:
    """Ask `model` for a spec of `request` over `catalog`; return the first answer that validates
    and passes `check`.

    Raises `LLMError` when the model cannot be reached (no key, timeout, auth, rate limit...) or
    gives no acceptable answer within `max_attempts` calls; the message says why and what to do.
    `mock_response` answers every call with that text, offline (litellm's own mock).
    """
    if not request.strip():
        raise UsageError("The request is empty.", hint="Describe the model you want, e.g. 'revenue by country'.")
    if name is not None:
        try:
            check_identifier(name, "model name")
        except ValueError as exc:
            raise UsageError(str(exc), hint="Pass --name with a name like 'revenue_by_country'.") from None
    if max_attempts < 1:
        raise UsageError(f"max_attempts must be at least 1, got {max_attempts}.")
    api_base = api_base or os.environ.get(API_BASE_ENV) or None
    api_key = api_key or os.environ.get(API_KEY_ENV) or None

    litellm = _import_litellm()
    if mock_response is None:
        _check_credentials(litellm, model, api_base=api_base, api_key=api_key)

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

    messages = build_messages(request, catalog, name=name)
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
            time.sleep(RATE_LIMIT_BACKOFF * 2**rate_limited)
            rate_limited += 1
            continue
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes one line
            raise _llm_error(litellm, exc, model, api_base, timeout) from None

        spec, errors = _accept(text, request=request, model=model, name=name, check=check)
        if spec is not None:
            if calls > 1:
                spec.notes.append(f"llm answer accepted after {calls} calls")
            return spec
        messages = [
            *messages,
            {"role": "assistant", "content": text or "(empty answer)"},
            {"role": "user", "content": repair_message(errors)},
        ]

    shown = "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
    raise LLMError(
        f"{model} gave no valid model spec in {max_attempts} attempt(s); last errors: {shown}",
        hint="Rephrase the request with table or column names, use a stronger model, "
        "or raise the number of attempts.",
    )


# --- answer -> spec ------------------------------------------------------------------------


def parse_answer(text: str) -> dict:
    """The JSON object in a model's answer: fences and prose around it are tolerated.

    >>> parse_answer('Sure! ```json\\n{"name": "x"}\\n``` Hope it helps.')
    {'name': 'x'}
    """
    if not text or not text.strip():
        raise ValueError("the answer was empty: reply with one JSON object")
    fenced = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", text, re.DOTALL)
    body = fenced.group(1) if fenced and "{" in fenced.group(1) else text
    start = body.find("{")
    if start < 0:
        raise ValueError("the answer contains no JSON object: reply with one JSON object only")
    try:
        value, _ = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("the answer must be a JSON object")
    return value


def _accept(
    text: str, *, request: str, model: str, name: str | None, check: Check | None
) -> tuple[ModelSpec | None, list[str]]:
    """(spec, []) for an acceptable answer, else (None, errors to send back)."""
    try:
        data = parse_answer(text)
    except ValueError as exc:
        return None, [str(exc)]
    for field in TOOL_FIELDS:  # ours to fill: an answer that sets them is not wrong, just ignored
        data.pop(field, None)
    if name is not None:
        data["name"] = name
    data["request"], data["planner"] = request, f"llm:{model}"
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        return None, validation_errors(exc)
    findings = [*sql_body_findings(spec), *(check(spec) if check else [])]
    if findings:
        return None, [f.message for f in findings]
    return spec, []


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


_JINJA = re.compile(r"\{\{(.*?)\}\}|\{%|\{#", re.DOTALL)
_REF_OR_SOURCE = re.compile(r"^\s*(ref\(\s*'[^']+'\s*\)|source\(\s*'[^']+'\s*,\s*'[^']+'\s*\))\s*$")


def sql_body_findings(spec: ModelSpec) -> list[Finding]:
    """The shape the prompt asks of `sql_body`: one SELECT, Jinja only for ref()/source().
    (The validate stage checks the SQL itself; this catches what the model can fix cheaply.)"""
    if spec.sql_body is None:
        return []
    body = spec.sql_body.strip()
    found: list[Finding] = []
    if not re.match(r"(?is)^\s*(select|with)\b", body):
        found.append(Finding("spec", "sql_body must be a single SELECT statement (it may start with WITH)"))
    if ";" in body.rstrip(";") or body.endswith(";"):
        found.append(Finding("spec", "sql_body must be one statement without semicolons"))
    for m in _JINJA.finditer(body):
        if m.group(1) is None or not _REF_OR_SOURCE.match(m.group(1).replace('"', "'")):
            found.append(
                Finding("spec", f"sql_body may use Jinja only as {{{{ ref('x') }}}} or "
                        f"{{{{ source('s', 't') }}}}; found {m.group(0)[:60]!r}")
            )
    return found


# --- litellm --------------------------------------------------------------------------------


def _import_litellm():
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


def _check_credentials(litellm, model: str, *, api_base: str | None, api_key: str | None) -> None:
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


def _llm_error(litellm, exc: Exception, model: str, api_base: str | None, timeout: float) -> LLMError:
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
