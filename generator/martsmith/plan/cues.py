"""Structural cues of a request: what shapes the plan, before any schema word is linked.

`find_cues` walks the tokens once per kind of cue (relative dates, date ranges, comparisons,
top-N, bare dates, aggregations, grains, grouping, negation, function words) and marks every
token it uses, so that what is left are the content words `linking.py` must place.

>>> from martsmith.plan.tokens import tokenize
>>> c = find_cues(tokenize("top 5 products by revenue since 2024-03-01"))
>>> c.top.limit, c.dates[0].start.isoformat(), c.dates[0].op
(5, '2024-03-01', '>=')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from martsmith.errors import PlanError
from martsmith.plan import lexicon as lx
from martsmith.plan.tokens import Token


@dataclass
class DateCue:
    """A date filter: `op` applied to `start` (and `end`, exclusive, for ranges)."""

    first: int  # index of the first token of the cue (the word before it may name the column)
    op: str  # '>=', '<', 'range'
    start: date | None
    end: date | None = None
    text: str = ""
    # Relative to the run date: (grain, offset, period_start) of the start bound and, for a
    # range, of the end bound ('last month': the first of last month, the first of this month).
    relative: tuple | None = None


@dataclass
class Comparison:
    first: int
    op: str
    values: list[float | int]
    text: str = ""
    end: int = 0  # one past its last token
    unit: str | None = None  # 'minutes' in 'longer than 60 minutes': names the column
    implied: tuple[str, ...] = ()  # 'older than 30': the column the comparative implies


@dataclass
class Top:
    limit: int
    direction: str
    index: int
    implicit_limit: bool = False


@dataclass
class Grain:
    index: int
    grain: str
    noun: bool  # "month" (may follow the column it applies to) vs "monthly"


@dataclass
class OrderCue:
    """A sort cue at `index`: `key` True when the next column is the sort key ('ordered by
    age'); else it sets the direction of the key before it ('age descending'). direction None:
    ascending unless a direction cue follows; 'alpha': the label, ascending."""

    index: int
    end: int
    direction: str | None
    key: bool
    implied: tuple[str, ...] = ()  # 'from the oldest to the youngest': the column it implies


@dataclass
class Superlative:
    """'the youngest', 'with the most': order by a column (or a count), keep the first row."""

    index: int
    direction: str
    implied: tuple[str, ...]  # column-name stems the adjective implies; () = the next link
    mode: bool = False  # 'the most common nationality': the value with the most rows


@dataclass
class WindowCue:
    index: int
    function: str
    periods: int | None = None
    grain: str | None = None  # '3 month moving average': the grain it runs along


@dataclass
class Cues:
    tokens: list[Token]
    role: list[str | None] = field(default_factory=list)  # None: a content word to link
    aggs: dict[int, str] = field(default_factory=dict)  # first token of the cue -> aggregation
    groups: set[int] = field(default_factory=set)  # last token of a group cue
    grains: list[Grain] = field(default_factory=list)
    dates: list[DateCue] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    negations: set[int] = field(default_factory=set)  # last token of a negation cue
    top: Top | None = None
    order_direction: str | None = None
    orders: list[OrderCue] = field(default_factory=list)
    superlatives: list[Superlative] = field(default_factory=list)
    distinct: int | None = None  # index of a standalone 'distinct' / 'different'
    windows: list[WindowCue] = field(default_factory=list)
    pivot: int | None = None  # index one past a pivot phrase: the next column is pivoted
    share: tuple[int, bool] | None = None  # (index one past a share phrase, as a percentage)

    def free(self, i: int) -> bool:
        return 0 <= i < len(self.tokens) and self.role[i] is None

    def mark(self, start: int, end: int, role: str) -> None:
        for i in range(start, end):
            self.role[i] = role


def _first_phrase(toks, i: int, phrases) -> tuple[str, ...] | None:
    """The first of `phrases` (tuples of words) that the tokens spell from position i."""
    return next((p for p in phrases if _words(toks, i, p)), None)


def _words(tokens: list[Token], i: int, phrase: tuple[str, ...]) -> bool:
    if i + len(phrase) > len(tokens):
        return False
    return all(tokens[i + k].kind in ("word", "op") and tokens[i + k].text == w for k, w in enumerate(phrase))


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def parse_date(tokens: list[Token], i: int) -> tuple[date, date, int] | None:
    """A date expression at token i: (first day, first day after, tokens used).
    Reads 2024-03-05, 2024-03, 2024, 'march 2024', 'q1 2024'. Years must be 1900-2100."""
    if i >= len(tokens):
        return None
    t = tokens[i]
    if t.kind == "date":
        parts = [int(p) for p in t.text.split("-")]
        try:
            if len(parts) == 3:
                d = date(*parts)
                return d, date.fromordinal(d.toordinal() + 1), 1
            d = date(parts[0], parts[1], 1)
        except ValueError:
            raise PlanError(f"'{t.text}' is not a valid date", hint="Write dates as YYYY-MM-DD.") from None
        return d, _add_months(d, 1), 1
    if t.kind == "number" and isinstance(t.number, int) and 1900 <= t.number <= 2100:
        return date(t.number, 1, 1), date(t.number + 1, 1, 1), 1
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    next_year: int | None = None
    if nxt is not None and nxt.kind == "number" and isinstance(nxt.number, int) and 1900 <= nxt.number <= 2100:
        next_year = nxt.number
    if t.kind == "word" and t.text in lx.MONTHS and next_year is not None:
        d = date(next_year, lx.MONTHS[t.text], 1)
        return d, _add_months(d, 1), 2
    if t.kind == "word" and t.text in ("q1", "q2", "q3", "q4") and next_year is not None:
        d = date(next_year, 3 * (int(t.text[1]) - 1) + 1, 1)
        return d, _add_months(d, 3), 2
    return None


def _phrase_at(toks: list[Token], i: int, phrase: tuple[str, ...]) -> int | None:
    """Tokens used when `phrase` (with <n> and <grain> slots) is spelt at i, else None."""
    if i + len(phrase) > len(toks):
        return None
    for k, w in enumerate(phrase):
        t = toks[i + k]
        if w == "<n>":
            if t.kind != "number" or not isinstance(t.number, int) or not 1 < t.number < 1000:
                return None
        elif w == "<grain>":
            if t.text not in lx.GRAIN_NOUNS:
                return None
        elif t.kind not in ("word", "op") or t.text != w:
            return None
    return len(phrase)


def _shapes(c: Cues) -> None:
    """Window, pivot and share phrases, before relative dates ('the previous month' of a
    change is not a date filter)."""
    toks = c.tokens
    windows = sorted(lx.WINDOW_PHRASES, key=len, reverse=True)
    for i in range(len(toks)):
        if not c.free(i):
            continue
        for p in windows:
            n = _phrase_at(toks, i, p)
            if n:
                periods = next((toks[i + k].number for k, w in enumerate(p) if w == "<n>"), None)
                grain = next((lx.GRAIN_NOUNS[toks[i + k].text] for k, w in enumerate(p) if w == "<grain>"), None)
                c.windows.append(WindowCue(i, lx.WINDOW_PHRASES[p], periods, grain))  # type: ignore[arg-type]
                c.mark(i, i + n, "window")
                break
        if not c.free(i):
            continue
        for p in lx.PIVOT_PHRASES:
            if _words(toks, i, p):
                c.pivot = i + len(p)
                c.mark(i, i + len(p), "pivot")
                break
        if not c.free(i):
            continue
        for p, percent in lx.SHARE_PHRASES.items():
            if _words(toks, i, p):
                c.share = (i + len(p), percent)
                c.mark(i, i + len(p), "share")
                break


def _relative(c: Cues) -> None:
    tokens = c.tokens

    def grain_at(k: int) -> bool:
        return k < len(tokens) and tokens[k].kind == "word" and tokens[k].text in lx.GRAIN_NOUNS

    for i, t in enumerate(tokens):
        if t.kind != "word" or not c.free(i):
            continue
        nxt_number = i + 1 < len(tokens) and tokens[i + 1].kind == "number"
        relative = t.text in lx.RELATIVE_WORDS and (grain_at(i + 1) or (nxt_number and grain_at(i + 2)))
        if t.text in lx.RELATIVE_ALONE or relative:
            n = 3 if relative and nxt_number else 2 if relative else 1
            phrase = " ".join(x.text for x in tokens[i : i + n])
            cue = _relative_cue(tokens, i, n)
            if cue is None:
                raise PlanError(
                    f"'{phrase}' is too vague a date for the offline planner.",
                    hint="Say e.g. 'in the last 30 days', 'this month', 'last year', or an absolute date.",
                )
            first = (
                i - 1
                if i > 0 and tokens[i - 1].text in ("in", "during", "for", "over", "within", "of") and c.free(i - 1)
                else i
            )
            cue.first, cue.text = first, " ".join(x.text for x in tokens[first : i + n])
            c.dates.append(cue)
            c.mark(first, i + n, "date")
        if t.text in lx.UNSUPPORTED:
            raise PlanError(
                f"'{t.text}' is not something the offline planner can build: it knows count, "
                "count distinct, sum, average, min and max.",
                hint="Ask for one of those, or use --llm MODEL.",
            )


def _relative_cue(tokens: list[Token], i: int, n: int) -> DateCue | None:
    """'last 30 days' (since 30 days before the run date), 'last month' / 'previous year' (that
    whole period), 'this month' / 'current year' / 'mtd' / 'ytd' (since the period's first day),
    'today', 'yesterday'. 'recent' and 'now' are too vague: None."""
    word = tokens[i].text
    alone = {
        "today": ("day", 0, 1),
        "yesterday": ("day", -1, 0),
        "ytd": ("year", 0, None),
        "mtd": ("month", 0, None),
        "qtd": ("quarter", 0, None),
    }
    if n == 1:
        if word not in alone:
            return None
        grain, start, end = alone[word]
        if end is None:
            return DateCue(i, ">=", None, relative=((grain, start, True), None))
        return DateCue(i, "range", None, relative=((grain, start, True), (grain, end, True)))
    grain = lx.GRAIN_NOUNS[tokens[i + n - 1].text]
    if n == 3:  # last 30 days: since that many periods before today
        count = tokens[i + 1].number
        if word not in ("last", "past", "previous", "prior", "trailing") or not isinstance(count, int) or count <= 0:
            return None
        return DateCue(i, ">=", None, relative=((grain, -count, False), None))
    if word in ("this", "current"):
        return DateCue(i, ">=", None, relative=((grain, 0, True), None))
    if word in ("last", "previous", "prior"):
        return DateCue(i, "range", None, relative=((grain, -1, True), (grain, 0, True)))
    return None


def _date_cues(c: Cues) -> None:
    toks = c.tokens
    for i, t in enumerate(toks):
        if not c.free(i) or t.kind != "word":
            continue
        w = t.text
        if w in ("between", "from") and (d1 := parse_date(toks, i + 1)):
            j = i + 1 + d1[2]
            if j < len(toks) and toks[j].text in (
                ("and",) if w == "between" else ("to", "until", "through", "till", "and")
            ):
                d2 = parse_date(toks, j + 1)
                if d2:
                    c.dates.append(DateCue(i, "range", d1[0], d2[1], " ".join(x.text for x in toks[i : j + 1 + d2[2]])))
                    c.mark(i, j + 1 + d2[2], "date")
                    continue
        d = parse_date(toks, i + 1)
        if d is None:
            continue
        start, end, n = d
        first = i
        if w == "to" and i > 0 and toks[i - 1].text in ("prior", "up") and c.free(i - 1):
            first, w = i - 1, ("before" if toks[i - 1].text == "prior" else "until")
        if w in lx.DATE_RANGE_CUES:
            cue = DateCue(i, "range", start, end)
        elif w in lx.DATE_FROM_CUES:
            cue = DateCue(i, ">=", start)
        elif w in lx.DATE_AFTER_CUES:
            cue = DateCue(i, ">=", end)
        elif w in lx.DATE_BEFORE_CUES:
            cue = DateCue(i, "<", start)
        elif w in lx.DATE_UNTIL_CUES:
            cue = DateCue(i, "<", end)
        else:
            continue
        cue.first = first
        cue.text = " ".join(x.text for x in toks[first : i + 1 + n])
        c.dates.append(cue)
        c.mark(first, i + 1 + n, "date")


def _comparisons(c: Cues) -> None:
    toks = c.tokens
    phrases = sorted(lx.COMPARISONS, key=len, reverse=True)
    for i in range(len(toks)):
        if not c.free(i):
            continue
        if (
            _words(toks, i, ("between",))
            and i + 3 < len(toks)
            and toks[i + 1].kind == "number"
            and toks[i + 2].text == "and"
            and toks[i + 3].kind == "number"
        ):
            c.comparisons.append(
                Comparison(
                    i,
                    "between",
                    [toks[i + 1].number, toks[i + 3].number],  # type: ignore[list-item]
                    " ".join(x.text for x in toks[i : i + 4]),
                    i + 4,
                )
            )
            end = i + 4
            if end < len(toks) and (toks[end].text in lx.UNITS or toks[end].text in lx.UNIT_SUFFIXES):
                end += 1
            c.comparisons[-1].end = end
            c.comparisons[-1].unit = toks[end - 1].text if end > i + 4 else None
            c.mark(i, end, "cmp")
            continue
        if (
            toks[i].kind == "number"
            and i + 2 < len(toks)
            and toks[i + 1].text == "or"
            and toks[i + 2].text in _OR_MORE
            and all(c.free(k) for k in range(i, i + 3))
        ):
            # '15 or more appointments', '3 or fewer'.
            op = _OR_MORE[toks[i + 2].text]
            c.comparisons.append(Comparison(i, op, [toks[i].number], " ".join(x.text for x in toks[i : i + 3]), i + 3))  # type: ignore[list-item]
            c.mark(i, i + 3, "cmp")
            continue
        for p in phrases:
            j = i + len(p)
            if (
                _words(toks, i, p)
                and j < len(toks)
                and toks[j].kind == "number"
                and all(c.free(k) for k in range(i, j + 1))
            ):
                op = lx.COMPARISONS[p]
                first = i
                if i > 0 and toks[i - 1].text == "not" and c.free(i - 1):
                    # 'not higher than 4' is '<= 4': the negation is the comparison's.
                    op, first = _NEGATED_OP[op], i - 1
                c.comparisons.append(
                    Comparison(
                        first,
                        op,
                        [toks[j].number],  # type: ignore[list-item]
                        " ".join(x.text for x in toks[first : j + 1]),
                    )
                )
                c.comparisons[-1].implied = next(
                    (lx.COMPARATIVE_IMPLIES[w] for w in p if w in lx.COMPARATIVE_IMPLIES), ()
                )
                end = j + 1
                if end < len(toks) and (toks[end].text in lx.UNITS or toks[end].text in lx.UNIT_SUFFIXES):
                    end += 1
                c.comparisons[-1].end = end
                c.comparisons[-1].unit = toks[end - 1].text if end > j + 1 else None
                c.mark(first, end, "cmp")
                break


def _top(c: Cues) -> None:
    toks = c.tokens
    for i, t in enumerate(toks):
        if c.free(i) and t.kind == "word" and t.text in lx.TOP_WORDS:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.kind == "number" and isinstance(nxt.number, int) and nxt.number > 0:
                c.top = Top(nxt.number, lx.TOP_WORDS[t.text], i)
                c.mark(i, i + 2, "top")
            else:
                c.top = Top(10, lx.TOP_WORDS[t.text], i, implicit_limit=True)
                c.mark(i, i + 1, "top")
            return


def _bare_dates(c: Cues) -> None:
    toks = c.tokens
    for i in range(len(toks)):
        if c.free(i) and (toks[i].kind in ("date", "number") or toks[i].text in lx.MONTHS or toks[i].text[:1] == "q"):
            d = parse_date(toks, i)
            if d and all(c.free(k) for k in range(i, i + d[2])):
                c.dates.append(DateCue(i, "range", d[0], d[1], " ".join(x.text for x in toks[i : i + d[2]])))
                c.mark(i, i + d[2], "date")


_OR_MORE = {
    "more": ">=",
    "greater": ">=",
    "above": ">=",
    "higher": ">=",
    "over": ">=",
    "less": "<=",
    "fewer": "<=",
    "below": "<=",
    "lower": "<=",
    "under": "<=",
}
_NEGATED_OP = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "=": "!=", "!=": "="}
_MODE_PHRASES = (("most", "common"), ("most", "frequent"), ("least", "common"))
_ORDER_KEYS = sorted(lx.ORDER_KEY_CUES, key=len, reverse=True)
_ORDER_DIRECTIONS = sorted(lx.ORDER_DIRECTION_CUES, key=len, reverse=True)
_ADJ_DIR = {"highest": "desc", "largest": "desc", "biggest": "desc", "lowest": "asc", "smallest": "asc"}


def _superlative_pair(toks: list[Token], i: int) -> int:
    """'from the oldest to the youngest' at i (from): the number of tokens, else 0."""
    words = [t.text for t in toks[i : i + 7]]
    known = set(lx.SUPERLATIVES) | set(_ADJ_DIR)
    for n in (4, 6):  # from X to Y / from the X to the Y
        w = words[:n]
        if len(w) < n or "to" not in w:
            continue
        k = w.index("to")
        left = [x for x in w[1:k] if x != "the"]
        right = [x for x in w[k + 1 :] if x != "the"]
        if len(left) == 1 and len(right) == 1 and left[0] in known and right[0] in known:
            return n
    return 0


def _sort_verbs(c: Cues) -> None:
    """'Sort employee names by their age', 'order the results by level': the 'by' after a sort
    verb names the sort key, not a group."""
    toks = c.tokens
    for i, t in enumerate(toks):
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        verb = t.text in ("sort", "arrange") or (t.text == "order" and nxt in ("the", "them", "these", "results"))
        if t.kind == "word" and verb and c.free(i):
            nxt_by = next((k for k in range(i + 1, min(i + 8, len(toks))) if toks[k].text == "by" and c.free(k)), None)
            if nxt_by is not None:
                c.mark(i, i + 1, "stop")
                c.orders.append(OrderCue(nxt_by, nxt_by + 1, None, key=True))
                c.mark(nxt_by, nxt_by + 1, "order")


def _words_cues(c: Cues) -> None:
    toks = c.tokens
    aggs = sorted(lx.AGGREGATIONS, key=len, reverse=True)
    i = 0
    while i < len(toks):
        t = toks[i]
        if not c.free(i) or t.kind != "word":
            i += 1
            continue
        if c.top is not None and t.text in lx.ORDER_WORDS:
            c.order_direction = lx.ORDER_WORDS[t.text]
            c.mark(i, i + 1, "order")
            i += 1
            continue
        p = _first_phrase(toks, i, _ORDER_KEYS)
        if p:
            c.orders.append(OrderCue(i, i + len(p), lx.ORDER_KEY_CUES[p], key=True))
            c.mark(i, i + len(p), "order")
            i += len(p)
            continue
        p = _first_phrase(toks, i, _ORDER_DIRECTIONS)
        if p and not (c.top is not None and len(p) == 1 and t.text in lx.ORDER_WORDS):
            c.orders.append(OrderCue(i, i + len(p), lx.ORDER_DIRECTION_CUES[p], key=False))
            c.mark(i, i + len(p), "order")
            i += len(p)
            continue
        n = _superlative_pair(toks, i) if t.text == "from" else 0
        if n:
            first = next(k for k in range(i + 1, i + n) if toks[k].text in lx.SUPERLATIVES or toks[k].text in _ADJ_DIR)
            word = toks[first].text
            direction = lx.SUPERLATIVES[word][0] if word in lx.SUPERLATIVES else _ADJ_DIR[word]
            implied = lx.SUPERLATIVES[word][1] if word in lx.SUPERLATIVES else ()
            c.orders.append(OrderCue(i, i + n, direction, key=False, implied=implied))
            c.mark(i, i + n, "order")
            i += n
            continue
        if c.top is None and _first_phrase(toks, i, _MODE_PHRASES):
            c.superlatives.append(Superlative(i, "desc", (), mode=True))
            c.mark(i, i + 2, "sup")
            i += 2
            continue
        if t.text in lx.SUPERLATIVES and i + 1 < len(toks) and toks[i + 1].text == "first":
            # 'names and weights of all cats, heaviest first': an ordering, every row kept.
            direction, implied = lx.SUPERLATIVES[t.text]
            c.orders.append(OrderCue(i, i + 2, direction, key=False, implied=implied))
            c.mark(i, i + 2, "order")
            i += 2
            continue
        if c.top is None and t.text in lx.SUPERLATIVES and not (_first_phrase(toks, i, aggs) or ())[1:]:
            direction, implied = lx.SUPERLATIVES[t.text]
            c.superlatives.append(Superlative(i, direction, implied))
            c.role[i] = "sup"
            i += 1
            continue
        if (t.text, toks[i + 1].text if i + 1 < len(toks) else "") in (
            ("different", "from"),
            ("same", "as"),
            ("differs", "from"),
        ):
            raise PlanError(
                f"'{t.text} {toks[i + 1].text}' compares two columns: the offline planner compares a column with "
                "values only.",
                hint="Use --llm MODEL, or write the comparison in a staging model.",
            )
        if t.text in lx.DISTINCT_WORDS and not (i > 0 and c.role[i - 1] == "agg"):
            c.distinct = i
        if (
            t.text in ("number", "count", "total")
            and i > 0
            and toks[i - 1].text == "the"
            and (i + 1 == len(toks) or toks[i + 1].kind == "end")
        ):
            # '... and the number.' at a sentence's end: the count asked for before it.
            c.role[i] = "stop"
            i += 1
            continue
        p = _first_phrase(toks, i, aggs)
        if p:
            c.aggs[i] = lx.AGGREGATIONS[p]
            c.mark(i, i + len(p), "agg")
            i += len(p)
            continue
        p = _first_phrase(toks, i, lx.GROUP_CUES)
        if p and i + len(p) < len(toks) and toks[i + len(p)].kind == "quoted":
            # 'directed by "Ben Jones"': the agent of a verb, not a group-by.
            c.mark(i, i + len(p), "stop")
            i += len(p)
            continue
        if p:
            c.groups.add(i + len(p) - 1)
            c.mark(i, i + len(p), "group")
            i += len(p)
            continue
        p = _first_phrase(toks, i, lx.NEGATIONS)
        if p and i + len(p) < len(toks) and toks[i + len(p)].hyphenated:
            p = None  # 'no-shows', 'non-members': part of a word, not a negation
        if p:
            c.negations.add(i + len(p) - 1)
            c.mark(i, i + len(p), "neg")
            i += len(p)
            continue
        if t.text in lx.GRAIN_ADJECTIVES:
            c.grains.append(Grain(i, lx.GRAIN_ADJECTIVES[t.text], noun=False))
            c.role[i] = "grain"
        elif t.text in lx.GRAIN_NOUNS:
            c.grains.append(Grain(i, lx.GRAIN_NOUNS[t.text], noun=True))
            c.role[i] = "grain"
        elif t.text in lx.ROW_NOUNS:
            c.role[i] = "rows"
        elif t.text in lx.STOPWORDS:
            c.role[i] = "stop"
        i += 1


def _column_first(tokens: list[Token]) -> list[Token]:
    """'above age 20' -> 'age above 20': a comparison phrase, one word, then a number names the
    word's column first, as the comparison grammar reads it."""
    out = list(tokens)
    phrases = sorted(lx.COMPARISONS, key=len, reverse=True)
    i = 0
    while i < len(out):
        p = _first_phrase(out, i, phrases) if out[i].kind == "word" else None
        j = i + len(p) if p else 0
        if (
            p
            and j + 1 < len(out)
            and out[j].kind == "word"
            and out[j].text not in lx.STOPWORDS
            and out[j].text not in lx.UNITS
            and out[j + 1].kind == "number"
        ):
            # 'visitors below age 30' -> 'visitors with age below 30' (the word stays its own link)
            out[i : j + 1] = [Token("word", "with", alts={"with": 0}), out[j], *out[i:j]]
            i = j + 2
        i += 1
    out = _drop_year_word(out)
    for k, t in enumerate(out):
        t.index = k
    return out


def _drop_year_word(toks: list[Token]) -> list[Token]:
    """'in year 2014', 'in the year of 1970': the word 'year' before a year number is the date
    itself, not a time grain."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        k = i + (2 if t.text == "year" and i + 1 < len(toks) and toks[i + 1].text == "of" else 1)
        nxt = toks[k] if k < len(toks) else None
        is_year = (
            nxt is not None and nxt.kind == "number" and isinstance(nxt.number, int) and 1900 <= nxt.number <= 2100
        )
        if t.kind == "word" and t.text == "year" and is_year and out and out[-1].text in ("in", "of", "the", "during"):
            if out[-1].text == "the":
                out.pop()
            i = k
            continue
        out.append(t)
        i += 1
    return out


def find_cues(tokens: list[Token]) -> Cues:
    """Mark the structural cues of a request. Raises PlanError for what the offline planner
    refuses to guess: relative dates ('last 30 days') and aggregations it cannot express."""
    tokens = _column_first(tokens)
    c = Cues(tokens, role=[None] * len(tokens))
    for t in tokens:
        if t.kind == "end":
            c.role[t.index] = "end"
    _shapes(c)
    _relative(c)
    for step in (_date_cues, _comparisons, _top, _bare_dates, _sort_verbs, _words_cues):
        step(c)
    return c
