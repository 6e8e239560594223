"""A model's answer text -> data: the JSON object in it (fences and prose tolerated, size and
depth bounded), pydantic's errors as sentences that name the field, schemas without titles."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

MAX_ANSWER_CHARS = 1_000_000  # a longer answer is rejected unread: no spec needs a megabyte
MAX_ANSWER_DEPTH = 64  # nesting of objects and arrays; json.loads recurses, and pydantic too


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
