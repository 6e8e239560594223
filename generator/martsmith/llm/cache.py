"""Answers kept on disk, keyed on (model, prompt): a rerun of the same request on the same
schema asks nobody, costs nothing and gets the same answers.

The key is a SHA-256 of the model string and the whole conversation so far; the value is the
answer's text and its token counts. A conversation's answers are stored once one of them is
accepted (llm/client.py), so a rerun replays the same turns, and a conversation that failed is
asked afresh. Files are written atomically
(a temporary file renamed), so an interrupted run leaves either the answer or nothing. The cache
lives outside the project (`MARTSMITH_LLM_CACHE_DIR`, default ~/.cache/martsmith/llm): a run
that fails leaves the project tree as it was.

>>> import tempfile
>>> cache = AnswerCache(Path(tempfile.mkdtemp()))
>>> key = cache_key("openai/x", [{"role": "user", "content": "hi"}])
>>> cache.get(key) is None
True
>>> cache.put(key, "openai/x", "hello", prompt_tokens=3, completion_tokens=1)
>>> cache.get(key)["answer"]
'hello'
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def prompt_hash(messages: list[dict]) -> str:
    """SHA-256 of a conversation, as it is recorded in `meta.martsmith.prompt_sha256`."""
    text = json.dumps(messages, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(model: str, messages: list[dict]) -> str:
    """The key of the answer `model` gives to `messages`."""
    return prompt_hash([{"model": model, "messages": messages}])


class AnswerCache:
    """A folder of JSON files, one per answer (`<key[:2]>/<key>.json`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer ({"answer", "model", "prompt_tokens", "completion_tokens"}) or None;
        a file that cannot be read or parsed is a miss, not an error."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("answer"), str) else None

    def put(self, key: str, model: str, answer: str, *, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Store an answer; a cache that cannot be written (read-only home, full disk) is skipped."""
        path = self._path(key)
        data = {
            "model": model,
            "answer": answer,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, ensure_ascii=False)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return
