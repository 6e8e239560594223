"""Fixtures for planner tests: `fake_llm`, a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests/ is not a package: make tests/fakes importable as `fakes` whatever the import mode.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from fakes.openai_server import FakeOpenAIServer  # noqa: E402

# litellm fetches a model cost map over the network on import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fake_llm():
    """A started `FakeOpenAIServer`: `.url` (api_base), `.queue(...)`, `.requests`."""
    with FakeOpenAIServer() as server:
        yield server
