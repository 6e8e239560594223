"""The offline planner: a request and a catalog in, a `ModelSpec` out. Deterministic, no network.

    tokens (tokens.py) → cues (cues.py) → links (linking.py) → intent (here) → spec (assemble.py)

Every content word of the request must be placed: linked to a table, column or value, or read
as a cue. A word that places nowhere raises `UnplacedWordsError` with the closest catalog names;
a word that names several things with nothing to tell them apart raises `PlanError` saying how
to disambiguate. Choices among plausible readings are kept in `spec.notes`.
"""

from __future__ import annotations

from pydantic import ValidationError

from martsmith.context.catalog import Catalog
from martsmith.errors import PlanError, UnplacedWordsError, UsageError
from martsmith.plan import lexicon as lx
from martsmith.plan.assemble import assemble
from martsmith.plan.cues import Cues, find_cues
from martsmith.plan.intent import DateIntent, DimensionIntent, FilterIntent, Intent, MeasureIntent
from martsmith.plan.joins import distance
from martsmith.plan.linking import Candidate, Index, Item, Link, _stems, build_index, closest, describe_fallback, link
from martsmith.plan.tokens import tokenize
from martsmith.spec import ModelSpec

_CONNECTORS = {"and", "or", "stop"}


def plan_offline(request: str, catalog: Catalog, *, name: str | None = None) -> ModelSpec:
    """Plan a dbt model for `request` over `catalog`. Same input, same spec.

    Raises UsageError for an empty request, UnplacedWordsError when a content word links to
    nothing, PlanError when the request is ambiguous or cannot be built without fan-out."""
    if not request or not request.strip():
        raise UsageError(
            "The request is empty.", hint="Describe the model, e.g. 'total revenue by customer country per month'."
        )
    cues = find_cues(tokenize(request))
    ix = build_index(catalog)
    links = _place_all(cues, link(cues, ix), ix, request)
    intent = _Reader(catalog, cues, links, ix).read()
    try:
        return assemble(intent, catalog, request=request, name=name)
    except ValidationError as exc:
        # A reading the spec cannot carry, e.g. a column whose name generated SQL cannot write
        # unquoted ('Official_ratings_(millions)'): refused, never written half-checked.
        problems = "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()[:3])
        raise PlanError(
            f"The offline planner cannot write this model: {problems}.",
            hint="Rename the column in a staging model, or use --llm MODEL with a SQL body.",
        ) from None


def _place_all(cues: Cues, links: list[Link], ix: Index, request: str) -> list[Link]:
    """Links plus description fallbacks; raise UnplacedWordsError for the words left over."""
    covered = {i for l in links for i in range(l.start, l.end)}
    unplaced: dict[str, list[str]] = {}
    out = list(links)
    for t in cues.tokens:
        if t.index in covered or not cues.free(t.index):
            continue
        if t.kind == "word":
            if t.text in lx.FILLER_VERBS or t.text in lx.TIME_WORDS:
                cues.role[t.index] = "filler" if t.text in lx.FILLER_VERBS else "time"
                continue
            fallback = describe_fallback(t.text, ix)
            if fallback:
                out.append(Link(t.index, t.index + 1, [t.text], fallback))
                continue
            unplaced[t.text] = closest(t.text, ix)
        elif t.kind == "number":
            unplaced[t.text] = []
    if unplaced:
        raise UnplacedWordsError(unplaced, request)
    if not out and not any(t.kind == "quoted" for t in cues.tokens) and not cues.aggs:
        words = [t.text for t in cues.tokens if t.kind == "word"] or [request.strip()]
        raise UnplacedWordsError({w: closest(w, ix) for w in words}, request)
    return sorted(out, key=lambda l: l.start)


class _Reader:
    """Reads links and cues into an `Intent`, resolving each link to one schema item."""

    def __init__(self, catalog: Catalog, cues: Cues, links: list[Link], ix: Index) -> None:
        self.catalog, self.cues, self.links, self.ix = catalog, cues, links, ix
        self.tables = {t.label: t for t in catalog.tables}
        self.intent = Intent()
        self.context = self._context_tables()
        self.intent.context = sorted(self.context)
        if cues.top:
            self.intent.limit, self.intent.direction = cues.top.limit, cues.order_direction or cues.top.direction
            if cues.top.implicit_limit:
                self.intent.notes.append("'top' without a number: kept 10 rows (say 'top 5' to change it).")

    # ---- context -------------------------------------------------------------------------
    def _context_tables(self) -> set[str]:
        out: set[str] = set()
        for l in self.links:
            tables = {c.item.table for c in l.candidates}
            if len(tables) == 1:
                out |= tables
        return out

    def _gap(self, start: int, end: int) -> list[str | None]:
        return [self.cues.role[i] for i in range(start, end)]

    def _prev_end(self, k: int) -> int:
        return self.links[k - 1].end if k > 0 else 0

    # ---- choosing one item ---------------------------------------------------------------
    def _column(self, item: Item):
        return self.tables[item.table].column(item.column or "")

    def _is_key(self, item: Item) -> bool:
        t = self.tables[item.table]
        words = lx.name_words(item.column or "")
        return (
            item.column == t.primary_key
            or (bool(words) and words[-1] in lx.KEY_WORDS)
            or any(f.table == item.table and f.column == item.column for f in self.catalog.foreign_keys)
        )

    def _choose(self, l: Link, cands: list[Candidate], *, measure: bool = False, qualifier: str | None = None) -> Item:
        if not cands:
            raise PlanError(f"'{l.text}' cannot play that part here.", hint="Rephrase with column names.")
        if qualifier and any(c.item.table == qualifier for c in cands):
            cands = [c for c in cands if c.item.table == qualifier]
        if measure:
            numeric = [
                c
                for c in cands
                if c.item.kind == "table"
                or (c.item.kind == "column" and self._column(c.item).family == "number" and not self._is_key(c.item))
            ]
            dropped = [c for c in cands if c not in numeric and c.item.kind == "column"]
            if numeric and dropped:
                self.intent.notes.append(
                    f"'{l.text}': not summing "
                    + ", ".join(f"{c.item.describe()} ({self._column(c.item).data_type})" for c in dropped)
                    + " (not a numeric measure)."
                )
                cands = numeric

        # A model built from a source (or from another model) is its cleaned version: dbt
        # projects build marts on staging, not on raw sources. Prefer the most downstream node.
        downstream = [
            c
            for c in cands
            if not any(self.catalog.is_upstream_of(c.item.table, d.item.table) for d in cands if d is not c)
        ]
        if len(downstream) < len(cands):
            skipped = {c.item.table for c in cands if c not in downstream}
            parts = []
            for table in sorted({c.item.table for c in downstream}):
                built_from = sorted(self.tables[u].name for u in skipped if self.catalog.is_upstream_of(u, table))
                if built_from:
                    parts.append(f"{self.tables[table].name} (built on {', '.join(built_from)})")
            self.intent.notes.append(f"'{l.text}': reading " + " and ".join(parts) + ", not what it is built on.")
            cands = downstream

        def key(c: Candidate) -> tuple:
            others = self.context - {c.item.table}
            return (
                c.rank,
                c.item.table not in self.context,
                sum(distance(self.catalog, c.item.table, o) for o in sorted(others)),
            )

        ranked = sorted(cands, key=lambda c: (key(c), c.item.table, c.item.column or ""))
        best = ranked[0]
        rivals = [c for c in ranked[1:] if key(c) == key(best) and c.item != best.item]
        if rivals:
            names = [best.item.describe()] + [c.item.describe() for c in rivals]
            quals = [f"'{n.split('.')[0].split(' ')[0]} {l.text}'" for n in names]
            raise PlanError(
                f"'{l.text}' is ambiguous: it could be " + " or ".join(names) + ".",
                hint="Say which one, e.g. " + " or ".join(quals) + ".",
            )
        if len(ranked) > 1:
            others = ", ".join(dict.fromkeys(c.item.describe() for c in ranked[1:] if c.item != best.item))
            if others:
                self.intent.notes.append(f"'{l.text}' read as {best.item.describe()} (also possible: {others}).")
        if best.tier <= 20:
            self.intent.notes.append(f"'{l.text}' read as {best.item.describe()} from its description.")
        return best.item

    # ---- reading -------------------------------------------------------------------------
    def read(self) -> Intent:
        targets = self._agg_targets()
        qualifiers = self._qualifiers()
        grouped_prev = negated_prev = False
        used_dates: set[int] = set()
        used_grains: set[int] = set()
        used_cmps: set[int] = set()
        self.used_negations: set[int] = set()
        for k, l in enumerate(self.links):
            gap = self._gap(self._prev_end(k), l.start)
            continuation = (
                k > 0
                and all(r in _CONNECTORS for r in gap)
                and any(self.cues.tokens[i].text in ("and", "or") for i in range(self._prev_end(k), l.start))
            )
            grouped = any(i in self.cues.groups for i in range(self._prev_end(k), l.start)) or (
                continuation and grouped_prev
            )
            negated = any(i in self.cues.negations for i in range(self._prev_end(k), l.start)) or (
                continuation and negated_prev
            )
            in_top = self.cues.top is not None and self.cues.top.index < l.start
            nxt = self._next_content(l.end)
            grain_at = self._next_content(l.end, skip=("stop", "group"))
            grain = next(
                (g for g in self.cues.grains if g.noun and g.index == grain_at and g.index not in used_grains), None
            )
            date = next((d for d in self.cues.dates if d.first == nxt and id(d) not in used_dates), None)
            cmp_ = next((c for c in self.cues.comparisons if c.first == nxt and id(c) not in used_cmps), None)
            grouped_prev, negated_prev = grouped, False
            if k in qualifiers:
                self.intent.qualifiers.append(qualifiers[k])
                continue
            qual = qualifiers.get(k - 1) if (k - 1) in qualifiers else qualifiers.get(k + 1)
            kinds = {c.item.kind for c in l.candidates}
            if k in targets:
                self._measure(l, targets[k], qual)
            elif date is not None and self._time_anchor(l, date=date):
                used_dates.add(id(date))
            elif grain is not None and self._time_anchor(l, grain=grain.grain):
                used_grains.add(grain.index)
            elif cmp_ is not None:
                used_cmps.add(id(cmp_))
                self._comparison(l, cmp_, qual)
            elif kinds <= {"value", "flag"} or (negated and kinds & {"value", "flag"}):
                self._filter(l, negated, qual)
                negated_prev = negated
                if negated:
                    self.used_negations.update(n for n in self.cues.negations if self._prev_end(k) <= n < l.start)
            elif kinds == {"table"}:
                self._table(l, grouped or (in_top and self._prev_end(k) <= self.cues.top.index))  # type: ignore[union-attr]
            else:
                self._column_role(l, grouped, in_top, qual)
        self._quoted()
        self._loose_cues(used_dates, used_grains, used_cmps)
        return self.intent

    def _next_content(self, i: int, skip: tuple[str, ...] = ("stop",)) -> int:
        while i < len(self.cues.tokens) and self.cues.role[i] in skip:
            i += 1
        return i

    def _agg_targets(self) -> dict[int, tuple[str, bool]]:
        """Link index -> (aggregation, counts rows of the base). A cue applies to the next
        table/column link (skipping value adjectives: 'number of completed orders'), or to
        the previous link when nothing follows it before another cue ('order count')."""
        out: dict[int, tuple[str, bool]] = {}
        for pos, agg in sorted(self.cues.aggs.items()):
            rows = False
            j = pos
            while j < len(self.cues.tokens) and self.cues.role[j] in ("agg", "stop", "rows"):
                rows = rows or self.cues.role[j] == "rows"
                j += 1
            after = [
                k
                for k, l in enumerate(self.links)
                if l.start >= j and {c.item.kind for c in l.candidates} - {"value", "flag"}
            ]
            between_ok = after and all(
                r in (None, "stop", "neg", "and") for r in self._gap(j, self.links[after[0]].start)
            )
            if rows:
                self.intent.measures.append(MeasureIntent("count", None, None, ["row"]))
            elif between_ok:
                prev = out.get(after[0])
                if prev is None or agg == "count_distinct":
                    out[after[0]] = (
                        agg if not (prev and prev[0] == "count" and agg == "count_distinct") else "count_distinct",
                        False,
                    )
            else:
                before = [k for k, l in enumerate(self.links) if l.end <= pos]
                if before and before[-1] not in out:
                    out[before[-1]] = (agg, False)
                elif not before:
                    raise PlanError(
                        f"'{self.cues.tokens[pos].text}' of what?",
                        hint="Name the column or table to aggregate, e.g. 'total amount'.",
                    )
        return out

    def _qualifiers(self) -> dict[int, str]:
        """Table links that only qualify the neighbouring column or value ('orders amount',
        'city of the customer'): link index -> table label."""
        out: dict[int, str] = {}
        for k, l in enumerate(self.links):
            if {c.item.kind for c in l.candidates} != {"table"} or len(l.candidates) != 1:
                continue
            label = l.candidates[0].item.table
            for n in (k + 1, k - 1):
                if not 0 <= n < len(self.links):
                    continue
                other = self.links[n]
                lo, hi = (l.end, other.start) if n > k else (other.end, l.start)
                gap = self._gap(lo, hi)
                words = {self.cues.tokens[i].text for i in range(lo, hi)}
                if n < k and "of" not in words:
                    continue
                if (
                    all(r == "stop" for r in gap)
                    and any(c.item.table == label and c.item.kind == "column" for c in other.candidates)
                    and (len({c.item.table for c in other.candidates}) > 1 or (n > k and lo == hi))
                ):
                    out[k] = label
                    break
        return out

    def _measure(self, l: Link, target: tuple[str, bool], qual: str | None) -> None:
        agg = target[0]
        item = self._choose(l, l.candidates, measure=agg in ("sum", "avg"), qualifier=qual)
        if item.kind == "table":
            if agg in ("avg", "min", "max"):
                raise PlanError(
                    f"'{agg} {l.text}' needs a column: the offline planner cannot average or rank "
                    "whole rows (e.g. 'average orders per customer' needs two aggregation steps).",
                    hint="Name a column, e.g. 'average order amount', or use --llm MODEL.",
                )
            if agg == "sum":
                self.intent.notes.append(f"'total {l.text}' read as the number of {l.text}.")
            self.intent.measures.append(
                MeasureIntent("count_distinct" if agg == "count_distinct" else "count", item.table, None, l.words)
            )
            return
        if item.kind != "column":
            raise PlanError(f"'{l.text}' is a value, not something to aggregate.", hint="Name a column to aggregate.")
        col = self._column(item)
        if agg in ("sum", "avg") and col.family != "number":
            raise PlanError(
                f"Cannot {agg} {item.describe()}: its type is {col.data_type}, not a number.",
                hint="Cast it in a staging model first, or ask for another measure.",
            )
        self.intent.measures.append(MeasureIntent(agg, item.table, item.column, l.words))

    def _time_anchor(self, l: Link, *, date=None, grain: str | None = None) -> bool:
        """If the link names a time column (or a table: its event time), it anchors the date
        filter or the grain that follows it. Returns False if it names neither."""
        items = [c.item for c in l.candidates if c.item.kind == "column" and self._column(c.item).family == "time"]
        tables = [c.item for c in l.candidates if c.item.kind == "table"]
        if not items and not tables:
            key = _stems(l.words)
            items = sorted(
                (i for i in self.ix.keys.get(key, {}) if i.kind == "column" and self._column(i).family == "time"),
                key=lambda i: (i.table, i.column or ""),
            )
        if items:
            chosen = self._choose(l, [Candidate(i, 100, 0) for i in items])
            table, column = chosen.table, chosen.column
        elif len(tables) == 1:
            table, column = tables[0].table, None
            self.context.add(table)
            if table not in self.intent.subjects:
                self.intent.subjects.append(table)
        else:
            return False
        if date is not None:
            self.intent.dates.append(DateIntent(date.op, date.start, date.end, table, column, date.text))
        else:
            self.intent.dimensions.append(DimensionIntent(table, column, grain, l.words))
        return True

    def _comparison(self, l: Link, cmp_, qual: str | None) -> None:
        item = self._choose(l, l.candidates, measure=True, qualifier=qual)
        if item.kind == "table":
            t = self.tables[item.table]
            nums = [c for c in t.columns if c.family == "number" and not self._is_key(Item("column", t.label, c.name))]
            if len(nums) != 1:
                raise PlanError(
                    f"'{l.text} {cmp_.text}': which column of {t.name}? " + ", ".join(c.name for c in nums),
                    hint="Name the column, e.g. 'amount over 100'.",
                )
            item = Item("column", t.label, nums[0].name)
            if t.label not in self.intent.subjects:
                self.intent.subjects.append(t.label)
            self.intent.notes.append(f"'{l.text} {cmp_.text}' compares {item.describe()}.")
        elif item.kind != "column" or self._column(item).family != "number":
            raise PlanError(
                f"'{l.text} {cmp_.text}': {item.describe()} is not a number.", hint="Compare a numeric column."
            )
        self.intent.filters.append(
            FilterIntent(item.table, item.column, cmp_.op, list(cmp_.values), text=f"{l.text} {cmp_.text}")
        )

    def _filter(self, l: Link, negated: bool, qual: str | None) -> None:
        item = self._choose(l, [c for c in l.candidates if c.item.kind in ("value", "flag")], qualifier=qual)
        if item.kind == "flag":
            self.intent.filters.append(FilterIntent(item.table, item.column, "=", [not negated], text=l.text))
            return
        op = "not in" if negated else "in"
        for f in self.intent.filters:
            if f.table == item.table and f.column == item.column and f.op == op:
                f.values += [v for v in item.values if v not in f.values]
                return
        self.intent.filters.append(FilterIntent(item.table, item.column, op, list(item.values), text=l.text))

    def _table(self, l: Link, grouped: bool) -> None:
        item = self._choose(l, l.candidates)
        if grouped:
            self.intent.dimensions.append(DimensionIntent(item.table, None, None, l.words))
        elif item.table not in self.intent.subjects:
            self.intent.subjects.append(item.table)

    def _column_role(self, l: Link, grouped: bool, in_top: bool, qual: str | None) -> None:
        cands = [c for c in l.candidates if c.item.kind in ("column", "table")]
        numeric_first = not grouped or (in_top and not self.intent.measures)
        item = self._choose(
            l, cands or l.candidates, measure=numeric_first and self._mostly_numeric(cands), qualifier=qual
        )
        if item.kind == "table":
            return self._table(l, grouped)
        col = self._column(item)
        measure = (
            col.family == "number" and not self._is_key(item) and (not grouped or (in_top and not self.intent.measures))
        )
        if measure:
            self.intent.measures.append(MeasureIntent("sum", item.table, item.column, l.words))
            self.intent.notes.append(f"'{l.text}' is numeric: summed (say 'average {l.text}' etc. otherwise).")
        else:
            grain = None
            if col.family == "time" and col.data_type.upper().startswith("TIMESTAMP"):
                grain = "day"
            self.intent.dimensions.append(DimensionIntent(item.table, item.column, grain, l.words))

    def _mostly_numeric(self, cands: list[Candidate]) -> bool:
        return any(c.item.kind == "column" and self._column(c.item).family == "number" for c in cands)

    def _quoted(self) -> None:
        """Quoted literals: a value of some column, or the value of the column named just before."""
        for t in self.cues.tokens:
            if t.kind != "quoted":
                continue
            want = t.text.strip().lower()
            hits = [
                c for c in self.ix.names.values() if c.kind == "value" and want in {v.strip().lower() for v in c.values}
            ]
            prev = [l for l in self.links if l.end <= t.index]
            if not hits and prev:
                cols = [c.item for c in prev[-1].candidates if c.item.kind == "column"]
                if cols:
                    item = self._choose(prev[-1], [Candidate(i, 100, 0) for i in cols])
                    self.intent.filters.append(FilterIntent(item.table, item.column, "=", [t.text], text=t.text))
                    self.intent.dimensions = [
                        d for d in self.intent.dimensions if not (d.table == item.table and d.column == item.column)
                    ]
                    continue
            if not hits:
                raise PlanError(
                    f"No column has the value '{t.text}'.",
                    hint="Put the column name before it, e.g. \"country 'France'\".",
                )
            item = self._choose(Link(t.index, t.index + 1, [t.text]), [Candidate(h, 100, 0) for h in hits])
            values = [v for v in item.values if v.strip().lower() == want]
            self.intent.filters.append(FilterIntent(item.table, item.column, "in", values, text=t.text))

    def _loose_cues(self, used_dates: set[int], used_grains: set[int], used_cmps: set[int]) -> None:
        # A negation the plan did not apply would leave the opposite answer, built and exit 0:
        # never drop one. (Today only a negated value or flag filter applies it.)
        for n in sorted(self.cues.negations - self.used_negations):
            word = self.cues.tokens[n].text
            raise PlanError(
                f"'{word}': the offline planner cannot apply this negation here, and it never drops one.",
                hint="Negate a value of a column (e.g. 'orders other than cancelled', 'products that are not "
                "active'), or use --llm MODEL for existence questions ('customers without orders').",
            )
        for g in self.cues.grains:
            if g.index not in used_grains:
                self.intent.dimensions.append(DimensionIntent(None, None, g.grain, []))
        for d in self.cues.dates:
            if id(d) not in used_dates:
                self.intent.dates.append(DateIntent(d.op, d.start, d.end, None, None, d.text))
        for c in self.cues.comparisons:
            if id(c) not in used_cmps:
                raise PlanError(f"'{c.text}': compare what?", hint="Put the column before it, e.g. 'amount over 100'.")


__all__ = ["plan_offline"]
