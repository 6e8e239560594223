"""Execution accuracy: do a generated model's rows answer the gold query?

Rows compare as multisets (order ignored); columns are matched by their *values*, not their
names (a model says `order_count` where the gold says `count(*)`); the model may carry extra
columns (a surrogate key, a dimension the gold leaves out). Numbers compare within a tolerance,
a date equals the midnight timestamp of that day, and booleans equal 0/1.

>>> compare([(1, "a"), (2, "b")], [("b", 2.0, "k2"), ("a", 1.0, "k1")]).ok
True
>>> compare([(1,), (1,)], [(1,)]).why
'1 rows where the gold has 2'
>>> compare([(1, "a")], [(1, "b")]).why
"gold column 2 matches no column of the model (e.g. gold 'a', model has 'b')"
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ABS_TOL = 0.01
REL_TOL = 1e-6


@dataclass(frozen=True)
class Comparison:
    ok: bool
    why: str
    mapping: tuple[int, ...] = ()  # model column of each gold column, when ok


def normalize(value: Any) -> Any:
    """One comparable form per value: numbers as float, dates/timestamps as ISO text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, Decimal)):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=ABS_TOL, rel_tol=REL_TOL)
    return a == b


def _same_column(gold: Sequence[Any], model: Sequence[Any]) -> bool:
    """The same multiset of values (numbers within the tolerance)."""

    def split(col: Sequence[Any]) -> tuple[list[float], list[str], int]:
        nums = sorted(v for v in col if isinstance(v, float))
        others = sorted(str(v) for v in col if v is not None and not isinstance(v, float))
        return nums, others, sum(v is None for v in col)

    gn, go, gz = split(gold)
    mn, mo, mz = split(model)
    return gz == mz and go == mo and len(gn) == len(mn) and all(_close(a, b) for a, b in zip(gn, mn))


def _rounded(v: Any) -> Any:
    return round(v, 1) if isinstance(v, float) else v


def compare(gold_rows: Sequence[Sequence[Any]], model_rows: Sequence[Sequence[Any]]) -> Comparison:
    """Whether `model_rows` answer `gold_rows` (see the module docstring)."""
    if len(gold_rows) != len(model_rows):
        return Comparison(False, f"{len(model_rows)} rows where the gold has {len(gold_rows)}")
    if not gold_rows:
        return Comparison(True, "both empty")
    gold = [[normalize(v) for v in r] for r in gold_rows]
    model = [[normalize(v) for v in r] for r in model_rows]
    gold_cols, model_cols = list(zip(*gold)), list(zip(*model))
    candidates: list[list[int]] = []
    for j, gc in enumerate(gold_cols):
        options = [k for k, mc in enumerate(model_cols) if _same_column(gc, mc)]
        if not options:
            example = next((v for v in gc if v is not None), None)
            alike = [v for mc in model_cols for v in mc if v is not None and type(v) is type(example)]
            seen = alike[0] if alike else None
            return Comparison(
                False, f"gold column {j + 1} matches no column of the model (e.g. gold {example!r}, model has {seen!r})"
            )
        candidates.append(options)
    want = Counter(tuple(_rounded(v) for v in r) for r in gold)

    def assign(j: int, used: frozenset[int], chosen: tuple[int, ...]) -> tuple[int, ...] | None:
        if j == len(candidates):
            got = Counter(tuple(_rounded(r[k]) for k in chosen) for r in model)
            return chosen if got == want else None
        for k in candidates[j]:
            if k not in used:
                found = assign(j + 1, used | {k}, chosen + (k,))
                if found is not None:
                    return found
        return None

    mapping = assign(0, frozenset(), ())
    if mapping is None:
        return Comparison(False, "every gold column has a match, but not together as rows")
    return Comparison(True, "same rows", mapping)


def row_diff(gold_rows: Sequence[Sequence[Any]], model_rows: Sequence[Sequence[Any]], limit: int = 5) -> dict:
    """A few rows only the gold has and only the model has (whole rows, normalized)."""
    gold = Counter(tuple(normalize(v) for v in r) for r in gold_rows)
    model = Counter(tuple(normalize(v) for v in r) for r in model_rows)
    return {
        "only_gold": [list(r) for r in list((gold - model).elements())[:limit]],
        "only_model": [list(r) for r in list((model - gold).elements())[:limit]],
    }
