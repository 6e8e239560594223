"""The one way to suggest names for a word that names nothing: difflib's similarity, best first.

Every "did you mean" and "closest:" in martsmith's messages comes from `suggest`, so a typo
finds the same names whichever command it was typed in.

>>> suggest("ordrs", ["orders", "order_items", "customers"])
['orders', 'order_items']
>>> suggest("emial", ["customers.email", "orders.amount"], parts=lambda n: n.split("."))
['customers.email']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

CUTOFF = 0.6  # difflib's own default: below it, suggestions are mostly noise


def similarity(word: str, name: str) -> float:
    """difflib's ratio of two strings, ignoring case (0 = nothing shared, 1 = equal).

    >>> similarity("Orders", "orders"), round(similarity("order", "orders"), 2)
    (1.0, 0.91)
    """
    return difflib.SequenceMatcher(None, word.lower(), name.lower()).ratio()


def suggest(
    word: str,
    names: Iterable[str],
    *,
    n: int = 3,
    cutoff: float = CUTOFF,
    parts: Callable[[str], Iterable[str]] | None = None,
) -> list[str]:
    """Up to `n` of `names` closest to `word`, best first: those whose similarity to `word`
    (of the name itself, or of one of its `parts`, e.g. the words of `customers.email`) is at
    least `cutoff`. Ties go to the shorter name, then alphabetically, so the answer is stable."""
    scored: dict[str, float] = {}
    # Each distinct candidate string is scored once (a large catalog repeats `id`, `status`, ...
    # in every table), and fully only when difflib's cheap upper bounds (real_quick_ratio >=
    # quick_ratio >= ratio) leave it a chance to reach `cutoff`: the same scores as
    # `similarity`, for a fraction of the work.
    low = word.lower()
    seen: dict[str, float] = {}

    def score_of(text: str) -> float:
        text = text.lower()
        if text not in seen:
            m = difflib.SequenceMatcher(None, low, text)
            ok = m.real_quick_ratio() >= cutoff and m.quick_ratio() >= cutoff
            seen[text] = m.ratio() if ok else 0.0
        return seen[text]

    for name in names:
        score = max(score_of(p) for p in [name, *(parts(name) if parts else ())])
        if score >= cutoff:
            scored[name] = max(score, scored.get(name, 0.0))
    return [k for k, _ in sorted(scored.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:n]]
