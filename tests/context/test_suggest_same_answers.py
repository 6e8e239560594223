"""`suggest` skips work (each distinct string scored once, difflib's upper bounds first): its
answers must stay those of scoring every name in full with `similarity`."""

from __future__ import annotations

import random

from martsmith.context.suggest import CUTOFF, similarity, suggest


def _by_full_scores(word: str, names: list[str], parts) -> list[str]:
    scored = {}
    for name in names:
        score = max(similarity(word, p) for p in [name, *parts(name)])
        if score >= CUTOFF:
            scored[name] = score
    return [k for k, _ in sorted(scored.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:3]]


def test_the_same_suggestions_as_scoring_every_name():
    rng = random.Random(3)
    words = ["order", "status", "customer", "amount", "city", "country", "id", "payment", "method", "created_at"]
    names = [f"{rng.choice(words)}s.{rng.choice(words)}_{rng.choice(words)}" for _ in range(400)]
    names += [f"Table{i}.People_ID" for i in range(20)]
    parts = lambda n: n.replace(".", "_").split("_")  # noqa: E731
    for typo in ["ordrs", "stauts", "custmer", "amont", "citty", "peopl", "frobnicator", "x", "METHOD"]:
        assert suggest(typo, names, parts=parts) == _by_full_scores(typo, names, parts)
