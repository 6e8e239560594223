"""Linking a star-schema description to the source's tables.

The words go through the model planner's parts: the linking index (plan/linking.py) built over
the source's tables only, and its vocabulary (plan/lexicon.py: stems, stopwords, business
synonyms such as 'lines' for items, the star words and calendar words). What is star-specific is
the walk: pairs of words first ('order lines' -> order_items), a word before 'star' or 'mart'
names the area, and the word 'fact' says which table is the fact.

>>> from martsmith.context.catalog import Table
>>> items = Table("source", "order_items", "raw", "order_items", source_name="shop")
>>> mentions, unplaced, area = link_description("sales star: order lines by day", [items])
>>> [(i, m if isinstance(m, str) else m.name) for i, m in mentions], unplaced, area
([(2, 'order_items'), (5, 'date')], [], 'sales')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from martsmith.context.catalog import Catalog, Table
from martsmith.errors import PlanError
from martsmith.plan import lexicon as lx
from martsmith.plan.linking import Index, build_index, tables_named

Mention = tuple[int, "Table | str"]  # (word position, a table or 'date')


def words_of(text: str) -> list[str]:
    """The description's words, lower-case; identifiers stay whole ('order_items')."""
    return re.findall(r"[a-z0-9_]+", text.lower())


def star_index(tables: list[Table]) -> Index:
    """The linking index (plan/linking.py) of these tables only: the source's."""
    return build_index(Catalog(tables=tables))


def _table(words: list[str], ix: Index, by_label: dict[str, Table], *, synonyms: bool) -> Table | None:
    """The one table `words` name (by their own words only, unless `synonyms`); an exact name
    wins a tie ('customers' beside a table 'customer')."""
    found = [c for c in tables_named(words, ix) if synonyms or c.rank == 0]
    if not found:
        return None
    named = [by_label[c.item.table] for c in found]
    exact = [t for t in named if t.name.lower() == "_".join(words)]
    if len(exact) == 1 or len(named) == 1:
        return (exact or named)[0]
    raise PlanError(
        f"'{' '.join(words)}' could name several tables: {', '.join(sorted(t.name for t in named))}.",
        hint="Name the table exactly as the source spells it.",
    )


@dataclass
class DescriptionLinks:
    """What a description's words name: mentions [(position, table or 'date')], the words
    placed nowhere, the area word, and a note for each word read through a synonym."""

    mentions: list[Mention] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    area: str | None = None
    readings: list[str] = field(default_factory=list)


def link_words(words: list[str], ix: Index, by_label: dict[str, Table]) -> DescriptionLinks:
    """Each word placed, in order of precedence: two words naming a table together ('order
    lines'); one word naming a table by its own stem; a calendar word; star words, stopwords and
    numbers (skipped); the word before 'star' / 'mart' / 'schema' (the area); one word naming a
    table by a business synonym ('clients' -> customers, noted); else unplaced."""
    out = DescriptionLinks()
    i = 0
    while i < len(words):
        w = words[i]
        pair = _table(words[i : i + 2], ix, by_label, synonyms=True) if i + 1 < len(words) else None
        if pair is not None:
            out.mentions.append((i, pair))
            i += 2
            continue
        own = _table([w], ix, by_label, synonyms=False)
        if own is not None:
            out.mentions.append((i, own))
        elif w in lx.CALENDAR_WORDS:
            out.mentions.append((i, "date"))
        elif w in lx.STOPWORDS or w in lx.STAR_WORDS or w.isdigit():
            pass
        elif out.area is None and i + 1 < len(words) and words[i + 1] in lx.AREA_NOUNS:
            out.area = w
        elif (synonym := _table([w], ix, by_label, synonyms=True)) is not None:
            out.mentions.append((i, synonym))
            out.readings.append(f"'{w}' in the description is read as {synonym.name} (a business synonym)")
        else:
            out.unplaced.append(w)
        i += 1
    return out


def link_description(text: str, tables: list[Table]) -> tuple[list[Mention], list[str], str | None]:
    """Mentions [(position, table or 'date')], unplaced words and the area word of `text`."""
    links = link_words(words_of(text), star_index(tables), {t.label: t for t in tables})
    return links.mentions, links.unplaced, links.area


def explicit_fact(words: list[str], mentions: list[Mention]) -> Table | None:
    """The table the description calls the fact: 'X as the fact', 'the fact of X', 'X fact'."""
    for i in (i for i, w in enumerate(words) if w in ("fact", "facts")):
        before = [m for m in mentions if m[0] < i and i - m[0] <= 4 and isinstance(m[1], Table)]
        after = [m for m in mentions if m[0] > i and m[0] - i <= 3 and isinstance(m[1], Table)]
        if before and "as" in words[before[-1][0] : i]:
            return before[-1][1]  # type: ignore[return-value]
        if after and any(w in ("of", "on", "for", "table") for w in words[i + 1 : after[0][0]]):
            return after[0][1]  # type: ignore[return-value]
        if before and before[-1][0] >= i - 2:
            return before[-1][1]  # type: ignore[return-value]
    return None
