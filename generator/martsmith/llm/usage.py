"""What a command's calls to models cost: calls, cached answers, tokens and, where litellm's
local cost map knows the model's price, dollars.

A `Run` opens one `ledger()`; every call `record`s into the ledger open at the time (none
open: nothing is recorded), and the run's summary reports it.

>>> with ledger() as usage:
...     record("openai/gpt-4.1-mini", prompt_tokens=1200, completion_tokens=300, cost=0.00096)
...     record("openai/gpt-4.1-mini", cached=True)
>>> usage.as_dict()["calls"], usage.as_dict()["cached"], usage.line()
(2, 1, 'llm: 2 calls (1 cached), 1,500 tokens (1,200 in, 300 out), $0.0010')
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Usage:
    calls: int = 0  # answers received, the cached ones included
    cached: int = 0  # answers read from the cache (free)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0  # dollars, for the calls whose price is known
    unpriced: int = 0  # calls to a model litellm has no price for
    models: list[str] = field(default_factory=list)
    prompt_sha256: list[str] = field(default_factory=list)  # the first prompt of each conversation

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "calls": self.calls,
            "cached": self.cached,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            # None when no call had a known price (a local model, a model litellm has no price for)
            "cost_usd": round(self.cost, 6) if self.calls - self.cached > self.unpriced or not self.unpriced else None,
            "prompt_sha256": list(self.prompt_sha256),
        }

    def line(self) -> str:
        """One summary line: 'llm: 2 calls (1 cached), 1,500 tokens (...), $0.0010'."""
        calls = f"{self.calls} call{'s' if self.calls != 1 else ''}"
        if self.cached:
            calls += f" ({self.cached} cached)"
        text = f"llm: {calls}, {self.tokens:,} tokens ({self.prompt_tokens:,} in, {self.completion_tokens:,} out)"
        priced = self.calls - self.cached - self.unpriced
        if priced > 0:
            text += f", ${self.cost:.4f}" + (" (some calls unpriced)" if self.unpriced else "")
        elif self.unpriced:
            text += ", cost unknown (no price for this model in litellm's cost map)"
        return text


_LEDGER: contextvars.ContextVar[Usage | None] = contextvars.ContextVar("martsmith_llm_usage", default=None)


@contextlib.contextmanager
def ledger() -> Iterator[Usage]:
    """Collect the usage of every call made inside the block."""
    usage = Usage()
    token = _LEDGER.set(usage)
    try:
        yield usage
    finally:
        _LEDGER.reset(token)


def record(
    model: str,
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost: float | None = None,
    cached: bool = False,
) -> None:
    """One answer received (or read from the cache)."""
    usage = _LEDGER.get()
    if usage is None:
        return
    usage.calls += 1
    if model not in usage.models:
        usage.models.append(model)
    if cached:
        usage.cached += 1
        return
    usage.prompt_tokens += prompt_tokens
    usage.completion_tokens += completion_tokens
    if cost is None:
        usage.unpriced += 1
    else:
        usage.cost += cost


def record_prompt(sha256: str) -> None:
    """The hash of a conversation's first prompt, for provenance."""
    usage = _LEDGER.get()
    if usage is not None and sha256 not in usage.prompt_sha256:
        usage.prompt_sha256.append(sha256)
