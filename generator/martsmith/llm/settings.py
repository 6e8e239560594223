"""How martsmith talks to a model: timeouts, retries, the repair budget, the answer format and
the answer cache, from options and environment variables.

Every setting has an option or a variable (options win), and a default that fits the provider:
a local model (ollama, vLLM, LM Studio) on a laptop may take minutes for one answer, a hosted
one seconds.

    MARTSMITH_LLM_TIMEOUT          seconds per call (--llm-timeout); default 120, 600 for local providers
    MARTSMITH_LLM_RETRIES          retries of one call after 429/5xx, honouring Retry-After (default 3)
    MARTSMITH_LLM_MAX_ATTEMPTS     answers the repair loop may ask for, all checks together (default 3)
    MARTSMITH_LLM_RESPONSE_FORMAT  auto | json_schema | json_object | text (default auto)
    MARTSMITH_LLM_CACHE_DIR        where answers are cached (default ~/.cache/martsmith/llm)
    MARTSMITH_LLM_NO_CACHE         1: never read the cache (--no-cache); answers are still stored

The settings of one command are bound with `use(settings)` and read with `current()`, so every
planner (model, star, rules) sees the same ones without each command threading them through.

>>> default_timeout("ollama/llama3.1"), default_timeout("openai/gpt-4.1-mini")
(600.0, 120.0)
>>> LLMSettings.from_env({"MARTSMITH_LLM_TIMEOUT": "45", "MARTSMITH_LLM_MAX_ATTEMPTS": "5"}).max_attempts
5
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from martsmith.errors import UsageError

TIMEOUT_ENV = "MARTSMITH_LLM_TIMEOUT"
RETRIES_ENV = "MARTSMITH_LLM_RETRIES"
MAX_ATTEMPTS_ENV = "MARTSMITH_LLM_MAX_ATTEMPTS"
RESPONSE_FORMAT_ENV = "MARTSMITH_LLM_RESPONSE_FORMAT"
CACHE_DIR_ENV = "MARTSMITH_LLM_CACHE_DIR"
NO_CACHE_ENV = "MARTSMITH_LLM_NO_CACHE"

# Providers that run on the user's machine or their own server: slower, and no key needed.
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "vllm", "lm_studio", "llamafile"})
HOSTED_TIMEOUT = 120.0
LOCAL_TIMEOUT = 600.0
DEFAULT_RETRIES = 3
DEFAULT_MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 120.0  # a server asking for a longer wait fails the call with that wait in the message
ResponseFormat = Literal["auto", "json_schema", "json_object", "text"]
RESPONSE_FORMATS: tuple[ResponseFormat, ...] = ("auto", "json_schema", "json_object", "text")


def provider_prefix(model: str) -> str:
    """The provider part of a litellm model string, without asking litellm ('' when none)."""
    return model.split("/", 1)[0] if "/" in model else ""


def default_timeout(model: str) -> float:
    """Seconds to wait for one answer: longer for a model served locally."""
    return LOCAL_TIMEOUT if provider_prefix(model) in LOCAL_PROVIDERS else HOSTED_TIMEOUT


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "martsmith" / "llm"


@dataclass(frozen=True)
class LLMSettings:
    """The settings of one command's calls to a model (see the module docstring)."""

    timeout: float | None = None  # None: `default_timeout(model)`
    retries: int = DEFAULT_RETRIES
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    response_format: ResponseFormat = "auto"
    cache_dir: Path | None = None  # None: `default_cache_dir()` when a call is made
    read_cache: bool = True

    def timeout_for(self, model: str) -> float:
        return self.timeout if self.timeout is not None else default_timeout(model)

    def with_options(self, *, timeout: float | None = None, no_cache: bool = False) -> LLMSettings:
        """These settings with what the command line said (an option wins over its variable)."""
        changed = self
        if timeout is not None:
            changed = replace(changed, timeout=_positive(timeout, "--llm-timeout"))
        if no_cache:
            changed = replace(changed, read_cache=False)
        return changed

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LLMSettings:
        """The settings the environment gives; a malformed value is a UsageError naming it."""
        fmt = env.get(RESPONSE_FORMAT_ENV, "auto").strip().lower() or "auto"
        if fmt not in RESPONSE_FORMATS:
            raise UsageError(
                f"{RESPONSE_FORMAT_ENV}={fmt!r} is not a response format.",
                hint=f"Use one of: {', '.join(RESPONSE_FORMATS)}.",
            )
        return cls(
            timeout=_positive(env[TIMEOUT_ENV], TIMEOUT_ENV) if env.get(TIMEOUT_ENV) else None,
            retries=_count(env.get(RETRIES_ENV), RETRIES_ENV, DEFAULT_RETRIES, minimum=0),
            max_attempts=_count(env.get(MAX_ATTEMPTS_ENV), MAX_ATTEMPTS_ENV, DEFAULT_MAX_ATTEMPTS, minimum=1),
            response_format=fmt,  # type: ignore[arg-type]  # checked against RESPONSE_FORMATS above
            cache_dir=Path(env[CACHE_DIR_ENV]).expanduser() if env.get(CACHE_DIR_ENV) else None,
            read_cache=env.get(NO_CACHE_ENV, "").strip().lower() not in ("1", "true", "yes"),
        )


def _positive(value: object, name: str) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]  # str or float: float() says which is wrong
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise UsageError(f"{name} must be a number of seconds above 0, got {value!r}.", hint=f"e.g. {name}=300")
    return seconds


def _count(value: str | None, name: str, default: int, *, minimum: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise UsageError(f"{name} must be a whole number of at least {minimum}, got {value!r}.", hint=f"e.g. {name}=5")
    return number


_CURRENT: contextvars.ContextVar[LLMSettings | None] = contextvars.ContextVar("martsmith_llm_settings", default=None)


def current() -> LLMSettings:
    """The settings bound by `use`, or else those of the environment."""
    bound = _CURRENT.get()
    return bound if bound is not None else LLMSettings.from_env()


@contextlib.contextmanager
def use(settings: LLMSettings) -> Iterator[LLMSettings]:
    """Bind `settings` for every call to a model made inside the block."""
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)
