"""The offline planner: a request and a catalog in, a `ModelSpec` out. Deterministic, no network.

    tokens (tokens.py) → cues (cues.py) → links (linking.py) → intent (here) → spec (assemble.py)

Every content word of the request must be placed: linked to a table, column or value, or read
as a cue. A word that places nowhere raises `UnplacedWordsError` with the closest catalog names;
a word that names several things with nothing to tell them apart raises `PlanError` saying how
to disambiguate. Choices among plausible readings are kept in `spec.notes`.
"""

from __future__ import annotations

from pydantic import ValidationError

from martsmith.context.catalog import Catalog, entity_of
from martsmith.errors import PlanError, UnplacedWordsError, UsageError
from martsmith.plan import lexicon as lx
from martsmith.plan.assemble import assemble
from martsmith.plan.cues import Comparison, Cues, OrderCue, Superlative, find_cues
from martsmith.plan.intent import (
    DateIntent,
    DimensionIntent,
    ExistsIntent,
    FilterIntent,
    HavingIntent,
    Intent,
    MeasureIntent,
    OrderIntent,
)
from martsmith.plan.joins import distance
from martsmith.plan.linking import Candidate, Index, Item, Link, _stems, build_index, closest, describe_fallback, link
from martsmith.plan.tokens import tokenize
from martsmith.spec import ModelSpec

_CONNECTORS = {"and", "or", "stop"}
_RECENCY = {"most recent": "max", "latest": "max", "last": "max", "newest": "max", "earliest": "min", "first": "min"}


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


_ARTICLES = {"a", "an", "any", "the", "some", "one"}


def _relationship_verbs(cues: Cues, links: list[Link]) -> list[Link]:
    """'customers who never placed an order', 'orders placed since 2024': a past-tense word
    that is also a value ('placed' in orders.status) reads as the verb of the relationship when an
    article and a table follow it, or its own table precedes it and a date follows. 'completed
    orders' (no article) stays the value."""
    out: list[Link] = []
    toks = cues.tokens
    for k, l in enumerate(links):
        kinds = {c.item.kind for c in l.candidates}
        word = l.words[0] if len(l.words) == 1 else ""
        nxt_tok = toks[l.end].text if l.end < len(toks) else ""
        if (
            kinds == {"column"}
            and word.endswith("ed")
            and nxt_tok == "by"
            and not any(word in lx.name_words(c.item.column or "") for c in l.candidates)
        ):
            # 'shared by the most orchestras': a verb that met the Share column by its stem.
            cues.role[l.start] = "filler"
            continue
        if kinds == {"value"} and word.endswith("ed") and word in lx.FILLER_VERBS:
            tables = {c.item.table for c in l.candidates}
            nxt = links[k + 1] if k + 1 < len(links) else None
            between = [toks[i].text for i in range(l.end, nxt.start)] if nxt else []
            article_then_table = (
                nxt is not None
                and between
                and all(w in _ARTICLES for w in between)
                and {c.item.kind for c in nxt.candidates} == {"table"}
            )
            prev = links[k - 1] if k > 0 else None
            date_after = any(d.first == l.end for d in cues.dates)
            own_table_before = (
                prev is not None and {c.item.table for c in prev.candidates} & tables and prev.end == l.start
            )
            if article_then_table or (own_table_before and date_after):
                cues.role[l.start] = "filler"
                continue
        out.append(l)
    return out


def _numeric_link(l: Link | None, ix: Index) -> bool:
    return l is not None and any(c.item.kind == "column" for c in l.candidates)


def _bare_equality(cues: Cues, links: list[Link], ix: Index, i: int) -> bool:
    """'in grade 10', 'whose membership level is 1', 'with 3 cylinders': a number right after
    (or right before) a column, with no comparison word, is an equality on that column."""
    toks = cues.tokens
    k = i - 1
    while k >= 0 and cues.role[k] == "stop" and toks[k].text in ("is", "are", "was", "of", "equal"):
        k -= 1
    before = next((l for l in links if l.end == k + 1), None)
    after = next((l for l in links if l.start == i + 1), None)
    n = toks[i].number
    if isinstance(n, bool) or n is None:
        return False
    if _numeric_link(before, ix):
        cues.comparisons.append(Comparison(k + 1, "=", [n], f"{toks[i].text}", end=i + 1))
        cues.mark(k + 1, i + 1, "cmp")
        return True
    if _numeric_link(after, ix) and i > 0 and toks[i - 1].text in ("with", "has", "have", "having"):
        cues.comparisons.append(Comparison(i, "=", [n], f"{toks[i].text}", end=i + 1))
        cues.mark(i, i + 1, "cmp")
        return True
    return False


def _place_all(cues: Cues, links: list[Link], ix: Index, request: str) -> list[Link]:
    """Links plus description fallbacks; raise UnplacedWordsError for the words left over."""
    links = _relationship_verbs(cues, links)
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
        elif t.kind == "number" and _bare_equality(cues, out, ix, t.index):
            continue
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
        self._order_at: list[tuple[int, OrderIntent, bool]] = []
        self._counted: str | None = None
        self.group_plain = False
        self._having_cmps: set[int] = set()
        self._column_cmps: set[int] = set()
        self._absorb: str | None = None
        self._top_listing = False
        self._explicit_sups: set[int] = set()
        self._recency_order: tuple[str, str, str, str] | None = None
        self._target_cue: dict[int, str] = {}
        self.superlative_target: int | None = None
        self._superlative_direction = "desc"
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

    def _named_table(self, l: Link, cands: list[Candidate]) -> list[Candidate]:
        """'the name and theme for all concerts': a column word whose readings span several
        tables takes the table the same sentence names after it ('for all concerts'), the
        nearest one, weaker readings of that table included (concert.concert_name)."""
        columns = [c for c in cands if c.item.kind == "column"]
        if len({c.item.table for c in columns}) < 2 and not (columns and l.others):
            return cands
        k = self.links.index(l) if l in self.links else -1
        if k < 0:
            return cands
        end = next(
            (i for i in range(l.end, len(self.cues.tokens)) if self.cues.role[i] == "end"), len(self.cues.tokens)
        )
        later = [
            x.candidates[0].item.table
            for x in self.links[k + 1 :]
            if x.start < end and len(x.candidates) == 1 and x.candidates[0].item.kind == "table"
        ]
        if not later:
            return cands
        target = later[0]
        if any(c.item.table == target for c in cands):
            return [c for c in cands if c.item.table == target or c.item.kind != "column"]
        weaker = [c for c in l.others if c.item.table == target]
        if len(weaker) == 1 and {c.item.table for c in columns} - {target}:
            self.intent.notes.append(
                f"'{l.text}' read as {weaker[0].item.describe()}: '{self.tables[target].name}' is named after it."
            )
            return weaker
        return cands

    def _settle(self, best: Candidate, rivals: list[Candidate], prefer: str) -> tuple[Candidate, list[Candidate]]:
        """Ties that are not ambiguities: a table and its own column of the same name
        ('continents' and continents.continent: the table as a noun, the column when listed),
        and the two ends of one foreign key (documents.template_id and templates.template_id
        hold the same values: the one of a table the request names, else the referring one)."""
        tied = [best, *rivals]
        tables = {c.item.table for c in tied}
        only_tables = [c for c in tied if c.item.kind == "table"]
        if prefer == "table" and len(only_tables) == 1:
            return only_tables[0], []
        if len(tables) == 1 and {c.item.kind for c in tied} == {"table", "column"}:
            pick = [c for c in tied if c.item.kind == prefer] or [c for c in tied if c.item.kind == "table"]
            if len(pick) == 1:
                return pick[0], []
        cols = [c for c in tied if c.item.kind == "column"]
        if len(cols) == 2 == len(tied):
            a, b = cols[0].item, cols[1].item
            for f in self.catalog.foreign_keys:
                pair = {(f.table, f.column), (f.ref_table, f.ref_column)}
                if pair == {(a.table, a.column), (b.table, b.column)}:
                    holder = next(c for c in cols if c.item.table == f.table)
                    named = [c for c in cols if c.item.table in self.intent.subjects]
                    return (named[0] if len(named) == 1 else holder), []
        # 'number of orders per status, excluding cancelled orders': a value held by the table
        # whose rows the request counts or names (orders.status) and by another table that
        # copies it (order lines' order_status) reads the request's own table.
        own = set(self.intent.subjects) | {m.table for m in self.intent.measures if m.table}
        held = [c for c in tied if c.item.kind in ("column", "value")]
        if len(held) == len(tied) and own:
            mine = [c for c in held if c.item.table in own]
            if len(mine) == 1:
                others = ", ".join(dict.fromkeys(c.item.describe() for c in held if c is not mine[0]))
                self.intent.notes.append(
                    f"{mine[0].item.describe()}: in {self.tables[mine[0].item.table].name}, the table the "
                    f"request is about (also possible: {others})."
                )
                return mine[0], []
        return best, rivals

    def _choose(
        self,
        l: Link,
        cands: list[Candidate],
        *,
        measure: bool = False,
        qualifier: str | None = None,
        prefer: str = "table",
    ) -> Item:
        if not cands:
            raise PlanError(f"'{l.text}' cannot play that part here.", hint="Rephrase with column names.")
        if qualifier and any(c.item.table == qualifier for c in cands):
            cands = [c for c in cands if c.item.table == qualifier]
        named = [c for c in cands if c.item.kind == "table"]
        if prefer == "table" and len(named) == 1 and len(cands) > 1:
            others = ", ".join(c.item.describe() for c in cands if c is not named[0])
            self.intent.notes.append(
                f"'{l.text}' read as the {named[0].item.describe()} table (also possible: {others})."
            )
            return named[0].item
        cands = self._named_table(l, cands)
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
            best, rivals = self._settle(best, rivals, prefer)
        if rivals:
            raise self._ambiguous(l, [best.item] + [c.item for c in rivals])
        if len(ranked) > 1:
            others = ", ".join(dict.fromkeys(c.item.describe() for c in ranked[1:] if c.item != best.item))
            if others:
                self.intent.notes.append(f"'{l.text}' read as {best.item.describe()} (also possible: {others}).")
        if best.tier <= 20:
            self.intent.notes.append(f"'{l.text}' read as {best.item.describe()} from its description.")
        return best.item

    def _ambiguous(self, l: Link, items: list[Item]) -> PlanError:
        """'X is ambiguous' naming each alternative once, distinctly, and for each a wording
        that picks it: its table's name before the words, or its column's words in a table
        several alternatives share (a value there has none: the columns are named alike)."""
        items = list(dict.fromkeys(items))
        names = [i.describe() for i in items]
        if len(set(names)) < len(names):  # tables of one name (two sources): their labels
            names = [f"{i.table}.{i.column}" if i.column else i.table for i in items]
        tables = [self.tables[i.table].name for i in items]
        quals = []
        for i, table in zip(items, tables):
            if tables.count(table) == 1:
                quals.append(f"'{table} {l.text}'")
            elif i.kind == "column" and i.column:
                quals.append(f"'{table} {' '.join(lx.name_words(i.column))}'")
        quals = list(dict.fromkeys(quals))
        if len(quals) > 1:
            hint = "Say which one, e.g. " + " or ".join(quals) + "."
        else:
            shared = sorted({t for t in tables if tables.count(t) > 1})
            hint = (
                f"They are columns of {', '.join(shared)} with the same value: the offline planner cannot tell "
                "them apart; use --llm MODEL, or build on a model that keeps one of them."
            )
        return PlanError(f"'{l.text}' is ambiguous: it could be " + " or ".join(dict.fromkeys(names)) + ".", hint=hint)

    # ---- reading -------------------------------------------------------------------------
    def read(self) -> Intent:
        self._distinct_listing()
        targets = self._agg_targets()
        qualifiers = self._qualifiers()
        self._mode(targets)
        sups = self._superlative_links()
        order_keys = self._order_keys()
        if self._recency_order is not None:
            t, col, direction, cue = self._recency_order
            self._add_order(direction, -1, True, table=t, column=col, text=cue)
            self.intent.dimensions.append(DimensionIntent(t, col, None, [col]))
            self.intent.limit = 1
            self.intent.notes.append(f"'{cue}': the row with the {cue} {self.tables[t].name}.{col} (one row).")
        if self.superlative_target is not None:
            order_keys[self.superlative_target] = OrderCue(-1, -1, self._superlative_direction, key=True)
            self.intent.limit = 1
            self.intent.notes.append(
                f"'{self.links[self.superlative_target].text}': the row with the "
                f"{'highest' if self._superlative_direction == 'desc' else 'lowest'} value (one row), not an aggregate."
            )
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
            negations = [n for n in self.cues.negations if self._prev_end(k) <= n < l.start]
            negated = bool(negations) or (continuation and negated_prev)
            in_top = self.cues.top is not None and self.cues.top.index < l.start
            nxt = self._next_content(l.end, skip=("stop", "filler"))
            grain_at = self._next_content(l.end, skip=("stop", "group"))
            grain = next(
                (g for g in self.cues.grains if g.noun and g.index == grain_at and g.index not in used_grains), None
            )
            date = next((d for d in self.cues.dates if d.first == nxt and id(d) not in used_dates), None)
            cmp_ = next(
                (
                    c
                    for c in self.cues.comparisons
                    if c.first == nxt
                    and id(c) not in used_cmps
                    and id(c) not in self._having_cmps
                    and id(c) not in self._column_cmps
                    and not self._followed_by_content(c)
                ),
                None,
            )
            before = next(
                (
                    c
                    for c in self.cues.comparisons
                    if id(c) not in used_cmps
                    and c.end
                    and self._next_content(c.end, skip=("stop", "filler")) == l.start
                ),
                None,
            )
            grouped_prev, negated_prev = grouped, False
            if k in qualifiers:
                self.intent.qualifiers.append(qualifiers[k])
                continue
            qual = qualifiers.get(k - 1) if (k - 1) in qualifiers else qualifiers.get(k + 1)
            kinds = {c.item.kind for c in l.candidates}
            if self.cues.pivot is not None and l.start == self._next_content(self.cues.pivot):
                self._pivot(l, qual)
                continue
            if k in order_keys:
                self._order_key(l, order_keys[k], k in targets, qual)
                if k not in targets:
                    continue
            if k in targets and self._distinct_values_grouped(k, targets):
                # 'the different record companies and the number of orchestras': each value a row.
                self._column_role(l, True, in_top, qual)
            elif k in targets:
                for target in targets[k]:
                    self._measure(l, target, qual, sup=sups.get(k))
                if cmp_ is not None and kinds == {"table"}:
                    # 'how many trips were longer than 60 minutes': counted and compared.
                    used_cmps.add(id(cmp_))
                    self._comparison(l, cmp_, qual)
            elif k in sups and kinds == {"table"}:
                self._most(l, sups[k])
            elif k in sups and sups[k].mode:
                self._mode_of(l, sups[k], qual)
            elif k in sups:
                self._superlative_column(l, sups[k], qual)
            elif date is not None and self._time_anchor(l, date=date):
                used_dates.add(id(date))
            elif grain is not None and self._time_anchor(l, grain=grain.grain):
                used_grains.add(grain.index)
            elif before is not None and kinds == {"table"} and not negated:
                used_cmps.add(id(before))
                self._having(l, before)
            elif before is not None and "column" in kinds and cmp_ is None and not negated:
                # 'books with more than 500 pages': the number before the column it compares.
                used_cmps.add(id(before))
                self._comparison(l, before, qual)
            elif cmp_ is not None:
                used_cmps.add(id(cmp_))
                self._comparison(l, cmp_, qual)
            elif kinds <= {"value", "flag"} or (negated and kinds & {"value", "flag"}):
                self._filter(l, negated, qual)
                negated_prev = negated
                if negated:
                    self.used_negations.update(negations)
            elif kinds == {"table"} and self._absorbed(l):
                pass
            elif kinds == {"table"} and negated and negations and self._exists(l):
                self.used_negations.update(negations)
            elif negations and "column" in kinds and self._negated_event(l):
                self.used_negations.update(negations)
            elif "column" in kinds and self._share_condition(l, qual):
                pass
            elif kinds == {"table"} and self.intent.kind == "listing" and self._date_of(l):
                pass
            elif kinds == {"table"}:
                self._table(l, grouped or (in_top and self._prev_end(k) <= self.cues.top.index))  # type: ignore[union-attr]
            else:
                self._column_role(l, grouped, in_top, qual)
        self._quoted()
        self._directions()
        self._implied_superlatives()
        self._loose_cues(used_dates, used_grains, used_cmps)
        self._finish_mode()
        self._related_subjects()
        self._shapes()
        return self.intent

    def _related_subjects(self) -> None:
        """'how many dogs went through any treatments', 'customers with orders': a table named
        beside the counted or listed entity, that refers to it and gives it no column, keeps the
        entity's rows that have one (exists) — never silently left out of the plan."""
        i = self.intent
        counted = [m.table for m in i.measures if m.column is None and m.table]
        entities = counted or ([i.subjects[0]] if i.kind == "listing" and i.subjects else [])
        if len(set(entities)) != 1 or i.exists:
            return
        entity = entities[0]
        used = (
            {d.table for d in i.dimensions} | {f.table for f in i.filters} | {m.table for m in i.measures if m.column}
        )
        for t in [t for t in i.subjects if t != entity and t not in used]:
            if any(f.table == t and f.ref_table == entity for f in self.catalog.foreign_keys):
                i.subjects.remove(t)
                i.exists.append(ExistsIntent(t, False, text=self.tables[t].name))
                i.notes.append(
                    f"'{self.tables[t].name}': only {self.tables[entity].name} with a {self.tables[t].name} row."
                )

    def _pivot(self, l: Link, qual: str | None) -> None:
        cands = [c for c in l.candidates if c.item.kind == "column"]
        item = self._choose(l, cands or l.candidates, qualifier=qual)
        col = self._column(item) if item.kind == "column" else None
        if col is None or not col.values or len(col.values) > 20:
            raise PlanError(
                f"'{l.text}': one column per value needs a column with a few known values.",
                hint="Pivot a low-cardinality text column, e.g. 'one column per status'.",
            )
        self.intent.pivot = (item.table, item.column)  # type: ignore[assignment]

    def _shapes(self) -> None:
        """Windows and shares, read once the measures and dimensions are known."""
        i = self.intent
        for w in self.cues.windows:
            i.windows.append((w.function, w.periods))
            if w.function == "moving_average" and w.grain and not any(d.grain for d in i.dimensions):
                i.dimensions.append(DimensionIntent(None, None, w.grain, []))
        if any(w.function == "rank" for w in self.cues.windows) and not i.ranked:
            raise PlanError("'rank' what?", hint="Say e.g. 'rank products within each category by revenue'.")
        if self.cues.share is not None:
            at, percent = self.cues.share
            conds = [f for f in i.filters if f.at >= at]
            if not conds:
                raise PlanError(
                    "A share of what? Say which rows are the part, e.g. 'share of orders that are completed'.",
                    hint="Name a value after the measure.",
                )
            i.filters = [f for f in i.filters if f not in conds]
            i.share = (percent, conds)
            # 'has insurance as the payment method': the column named with the part's value is
            # its condition, not a group (unless asked for with 'by' / 'per').
            named = {(f.table, f.column) for f in conds}
            i.dimensions = [d for d in i.dimensions if d.grouped or (d.table, d.column) not in named]
            i.notes.append(
                "Share: "
                + " and ".join(c.text for c in conds)
                + " over all rows"
                + (" (a percentage)." if percent else " (a fraction).")
            )

    # ---- the shape: aggregate or listing -------------------------------------------------
    def _mode(self, targets: dict[int, list[tuple[str, bool]]]) -> None:
        """A listing when nothing is aggregated or grouped ('names and ages of singers'); a
        superlative listing when the one aggregate is a min/max next to listed columns ('the
        name of the singer with the largest net worth': one row, not max() beside a name)."""
        c = self.cues
        each_only = bool(c.groups) and all(self.cues.tokens[g].text in ("each", "every") for g in c.groups)
        # 'the date of each treatment': with nothing aggregated, 'each' is every row.
        grouping = (bool(c.groups) and not (each_only and not targets)) or bool(c.grains) or c.top is not None
        rows = any(r == "rows" for r in c.role)
        aggs = [a for ts in targets.values() for a, _ in ts]
        counting = rows or any(a not in ("min", "max") for a in aggs) or bool(c.windows or c.share or c.pivot)
        if any(s.mode for s in c.superlatives):
            return
        sup_tables = any(
            {x.item.kind for x in l.candidates} == {"table"}
            for k, l in enumerate(self.links)
            if k in self._superlative_links()
        )
        self._having_cmps = {
            id(cmp)
            for cmp in c.comparisons
            for l in self.links
            if cmp.end
            and self._next_content(cmp.end, skip=("stop", "filler")) == l.start
            and {x.item.kind for x in l.candidates} == {"table"}
        }
        before_tables = bool(self._having_cmps)
        self._column_cmps = {
            id(cmp)
            for cmp in c.comparisons
            for l in self.links
            if cmp.end
            and self._next_content(cmp.end, skip=("stop", "filler")) == l.start
            and "column" in {x.item.kind for x in l.candidates}
            and id(cmp) not in self._having_cmps
        }
        self.superlative_target = None
        sup_aggregated = any(k in targets for k in self._superlative_links())
        # Ranked or filtered counts ('the stadium with the most concerts', 'customers with at
        # least 3 orders'): the other columns named are what the counts are grouped by.
        ranking = any(w.function == "rank" for w in c.windows)
        self.group_plain = sup_tables or before_tables or sup_aggregated or ranking
        if not grouping and len(targets) == 1 and not rows and self._recency(targets):
            return
        if c.top is not None and not targets and not rows and self._top_of_own_column():
            # 'top 3 highest rating tv series': the rows with the highest rating, not a sum.
            self.intent.kind = "listing"
            self._top_listing = True
            return
        if grouping or counting or sup_tables or before_tables:
            return
        plain = [
            k for k, l in enumerate(self.links) if k not in targets and {x.item.kind for x in l.candidates} & {"column"}
        ]
        if not targets:
            self.intent.kind = "listing"
        elif len(targets) == 1 and len(aggs) == 1 and plain:
            self.intent.kind = "listing"
            self.superlative_target = next(iter(targets))
        if self.superlative_target is not None:
            agg = targets.pop(self.superlative_target)[0][0]
            self._superlative_direction = "desc" if agg == "max" else "asc"

    def _followed_by_content(self, cmp_) -> bool:
        """'pets that had at least one surgery': the number counts the word after it (a value or
        a table), so it never compares a column of the table before it."""
        if not cmp_.end or cmp_.unit:
            return False
        nxt = self._next_content(cmp_.end, skip=("stop", "filler"))
        return any(l.start == nxt for l in self.links)

    def _money_column(self, table: str) -> str | None:
        """The table's one amount of money (amount, cost, price, fee, revenue, a currency
        suffix); 'several' when it has more than one; None when it has none."""
        money_words = {"amount", "cost", "price", "fee", "fees", "revenue", "total", "value", "usd", "eur", "gbp"}
        t = self.tables[table]
        cols = [
            c.name
            for c in t.columns
            if c.family == "number"
            and set(lx.name_words(c.name)) & money_words
            and not self._is_key(Item("column", t.label, c.name))
        ]
        if len(cols) > 1:
            return "several"
        return cols[0] if cols else None

    def _distinct_values_grouped(self, k: int, targets: dict[int, list[tuple[str, bool]]]) -> bool:
        """'different X' beside another count names the values of X to count by, not a count."""
        if targets[k] != [("count_distinct", False)] or self._target_cue.get(k) not in (
            "different",
            "distinct",
            "unique",
        ):
            return False
        if not any(j != k for j in targets):
            return False
        cols = [c.item for c in self.links[k].candidates if c.item.kind == "column"]
        return bool(cols) and not any(self._is_key(i) for i in cols)

    def _is_count_column(self, k: int) -> bool:
        cands = self.links[k].candidates
        return bool(cands) and all(
            c.item.kind == "column"
            and self._column(c.item).family == "number"
            and set(lx.name_words(c.item.column or "")) & {"number", "num", "count", "total", "no"}
            for c in cands
        )

    def _recency(self, targets: dict[int, list[tuple[str, bool]]]) -> bool:
        """'the cost of the most recent treatment' / 'how much does the most recent treatment
        cost': the value on the latest row (by its table's event time), not the largest value."""
        k = next(iter(targets))
        cue = self._target_cue.get(k, "")
        if cue not in _RECENCY or len(targets[k]) != 1:
            return False
        cols = [c.item for c in self.links[k].candidates if c.item.kind == "column"]
        if not cols or any(self._column(i).family == "time" for i in cols) or len({i.table for i in cols}) != 1:
            return False
        event = self._event_time(cols[0].table)
        if event is None:
            return False
        targets.pop(k)
        self.intent.kind = "listing"
        self._recency_order = (cols[0].table, event, "asc" if _RECENCY[cue] == "min" else "desc", cue)
        return True

    def _top_of_own_column(self) -> bool:
        """Top N by a numeric column of the very table the request lists."""
        tables = {
            x.item.table for l in self.links for x in l.candidates if x.item.kind == "table" and len(l.candidates) == 1
        }
        numeric = [
            l
            for l in self.links
            if l.candidates
            and all(x.item.kind == "column" for x in l.candidates)
            and any(self._column(x.item).family == "number" and not self._is_key(x.item) for x in l.candidates)
        ]
        if self.cues.groups and not numeric:
            return False
        return bool(numeric) and all({x.item.table for x in l.candidates} & tables for l in numeric)

    def _distinct_listing(self) -> None:
        """'all distinct countries of singers': distinct rows of a listing, not a count, when
        nothing else is counted or grouped."""
        c = self.cues
        if c.distinct is None or c.groups or c.grains or c.top is not None:
            return
        if any(r == "rows" for r in c.role) or set(c.aggs) - {c.distinct}:
            return
        c.aggs.pop(c.distinct, None)
        c.role[c.distinct] = "distinct"
        self.intent.distinct = True

    def _finish_mode(self) -> None:
        i = self.intent
        avg_tables = {m.table for m in i.measures if m.agg == "avg"}
        if avg_tables and all(m.agg == "avg" for m in i.measures):
            for d in list(i.dimensions):
                if d.column is None and d.grain is None and d.table in avg_tables:
                    # 'average fare per trip': an average over the trips, not one group per trip.
                    i.dimensions.remove(d)
                    i.notes.append(
                        f"'per {' '.join(d.words)}': the average over {self.tables[str(d.table)].name} rows."
                    )
        if self.group_plain or i.having:
            counted = {m.table for m in i.measures if m.column is None}
            if i.having and any(m.column is None and m.table != self._counted for m in i.measures):
                raise PlanError(
                    "This counts groups that pass a filter on a count (two levels of aggregation): the offline "
                    "planner builds one level.",
                    hint="Build the filtered groups first (e.g. 'riders with at least 30 trips'), then count them.",
                )
            for t in [t for t in i.subjects if t not in counted]:
                i.dimensions.insert(0, DimensionIntent(t, None, None, []))
                i.ranked.append(t)
            i.subjects = [t for t in i.subjects if t in counted]
        if i.latest:
            return
        if i.kind != "listing":
            if i.distinct:
                raise PlanError(
                    "'distinct' next to an aggregate: count distinct values with 'number of distinct ...'.",
                    hint="Say 'number of distinct X by Y', or list the distinct values alone.",
                )
            return
        if i.measures:
            raise PlanError(
                "This reads as a list of rows, but it also names an aggregate: the offline planner "
                "cannot put both in one model.",
                hint="Ask for 'number of ... by ...' or for the rows alone.",
            )
        if self.cues.top is not None and i.limit and not i.order:
            raise PlanError("'top N' needs something to rank by.", hint="Say e.g. 'top 5 stations by capacity'.")

    def _superlative_links(self) -> dict[int, Superlative]:
        """Link index -> the superlative cue right before it ('the most concerts')."""
        out: dict[int, Superlative] = {}
        for s in self.cues.superlatives:
            nxt = self._next_content(s.index + 1, skip=("stop", "agg", "rows", "sup"))
            k = next((k for k, l in enumerate(self.links) if l.start == nxt), None)
            if k is None:
                continue
            if s.implied:
                # 'the shortest life expectancy': an adjective before a numeric column ranks by it.
                cols = [c.item for c in self.links[k].candidates if c.item.kind == "column"]
                if not cols or not all(self._column(i).family == "number" for i in cols):
                    continue
                self._explicit_sups.add(s.index)
            out[k] = s
        return out

    def _order_keys(self) -> dict[int, OrderCue]:
        out: dict[int, OrderCue] = {}
        for o in self.cues.orders:
            if not o.key:
                continue
            nxt = self._next_content(o.end, skip=("stop", "agg"))
            k = next((k for k, l in enumerate(self.links) if l.start == nxt), None)
            if k is None:
                raise PlanError(
                    f"'{' '.join(t.text for t in self.cues.tokens[o.index : o.end])}' what?",
                    hint="Name the column to sort by, e.g. 'ordered by age'.",
                )
            out[k] = o
        return out

    def _next_content(self, i: int, skip: tuple[str, ...] = ("stop",)) -> int:
        while i < len(self.cues.tokens) and self.cues.role[i] in skip:
            i += 1
        return i

    def _agg_targets(self) -> dict[int, list[tuple[str, bool]]]:
        """Link index -> its aggregations (aggregation, counts rows of the base). A cue applies
        to the next table/column link (skipping value adjectives: 'number of completed orders';
        several cues in a row share it: 'average, minimum and maximum age'), or to the previous
        link when nothing follows it before another cue ('order count')."""
        out: dict[int, list[tuple[str, bool]]] = {}

        def add(k: int, agg: str) -> None:
            if agg == "count" and self._is_count_column(k):
                # 'whose number of products is the largest': the Number_products column itself.
                self.intent.notes.append(f"'number of {self.links[k].text}' read as the column that holds it.")
                return
            have = out.setdefault(k, [])
            if agg == "count_distinct" and ("count", False) in have:
                have.remove(("count", False))
            if (agg, False) not in have:
                have.append((agg, False))

        self._target_cue = {}
        for pos, agg in sorted(self.cues.aggs.items()):
            cue_text = " ".join(t.text for t in self.cues.tokens[pos : pos + 2] if self.cues.role[t.index] == "agg")
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
                add(after[0], agg)
                self._target_cue.setdefault(after[0], cue_text)
            else:
                before = [k for k, l in enumerate(self.links) if l.end <= pos]
                if before and before[-1] not in out:
                    add(before[-1], agg)
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

    # ---- ordering, superlatives, having, existence ----------------------------------------
    def _add_order(self, direction: str, at: int, explicit: bool, **ref) -> OrderIntent:
        o = OrderIntent(direction, **ref)
        self.intent.order.append(o)
        self._order_at.append((at, o, explicit))
        return o

    def _order_key(self, l: Link, cue: OrderCue, aggregated: bool, qual: str | None) -> None:
        """'ordered by age', 'in descending order of capacity': the sort key; listed too."""
        direction = cue.direction or "asc"
        if aggregated:
            # The measure is added next by _measure; sort by it.
            self._add_order(direction, l.start, cue.direction is not None, measure=len(self.intent.measures))
            return
        cands = [c for c in l.candidates if c.item.kind == "column"]
        if not cands:
            tables = [c.item for c in l.candidates if c.item.kind == "table"]
            if len(tables) == 1 and self.intent.kind != "listing":
                self._table(l, True)
                return
            if len(tables) == 1 and self._event_time(tables[0].table):
                # 'the most recent treatment': the treatments by their event time.
                t = tables[0].table
                col = str(self._event_time(t))
                self._add_order(direction, l.start, True, table=t, column=col, text=l.text)
                self.intent.dimensions.append(DimensionIntent(t, col, None, [col]))
                if t not in self.intent.subjects:
                    self.intent.subjects.append(t)
                self.intent.notes.append(f"'{l.text}' ordered by {self.tables[t].name}.{col}, its event time.")
                return
            raise PlanError(f"'{l.text}': sort by which column?", hint="Name a column, e.g. 'ordered by age'.")
        item = self._choose(l, cands, qualifier=qual)
        self._add_order(
            direction, l.start, cue.direction is not None, table=item.table, column=item.column, text=l.text
        )
        if cue.index >= 0 or self.intent.kind == "listing":
            self.intent.dimensions.append(DimensionIntent(item.table, item.column, None, l.words))

    def _directions(self) -> None:
        """Direction cues after the key ('age descending', 'in alphabetical order')."""
        for cue in self.cues.orders:
            if cue.key:
                continue
            before = [(at, o, explicit) for at, o, explicit in self._order_at if at < cue.index]
            if cue.direction in ("alpha", "alpha_desc"):
                direction = "desc" if cue.direction == "alpha_desc" else "asc"
                text = [d for d in self.intent.dimensions if d.column and self._is_text(d)]
                if before:
                    before[-1][1].direction = direction
                elif text:
                    d = text[0]
                    self._add_order(direction, cue.index, True, table=d.table, column=d.column, text=" ".join(d.words))
                else:
                    raise PlanError(
                        "'alphabetical' order of what?", hint="Name the column, e.g. 'names in alphabetical order'."
                    )
                continue
            if cue.implied and not before:
                self._implied_order(cue.implied, cue.direction or "asc", cue.index, limit=False)
                continue
            if before:
                at, o, explicit = before[-1]
                o.direction = cue.direction or o.direction
                continue
            prev = [l for l in self.links if l.end <= cue.index and any(c.item.kind == "column" for c in l.candidates)]
            cols = [c.item for c in prev[-1].candidates if c.item.kind == "column"] if prev else []
            if not cols:
                raise PlanError(
                    f"'{' '.join(t.text for t in self.cues.tokens[cue.index : cue.end])}' order of what?",
                    hint="Say 'ordered by COLUMN', e.g. 'ordered by age descending'.",
                )
            item = self._choose(prev[-1], [Candidate(i, 100, 0) for i in cols])
            measure = next(
                (n for n, m in enumerate(self.intent.measures) if m.table == item.table and m.column == item.column),
                None,
            )
            if measure is not None:
                self._add_order(cue.direction or "asc", cue.index, True, measure=measure)
            else:
                self._add_order(cue.direction or "asc", cue.index, True, table=item.table, column=item.column)

    def _is_text(self, d: DimensionIntent) -> bool:
        col = self.tables[d.table].column(d.column or "") if d.table else None
        return col is not None and col.family == "text"

    def _implied_order(self, implied: tuple[str, ...], direction: str, at: int, *, limit: bool) -> None:
        """The column an adjective implies ('youngest' -> age, ascending; or the birth date,
        descending), among the tables the request names."""
        tables = [self.tables[t] for t in sorted(self.context)] or list(self.tables.values())
        hits = []
        for t in tables:
            for c in t.columns:
                stems = {lx.stem(w) for w in lx.name_words(c.name)}
                if c.family in ("number", "time") and stems & {lx.stem(w) for w in implied}:
                    hits.append((t, c, direction))
        if not hits and "age" in implied:
            flip = "desc" if direction == "asc" else "asc"
            for t in tables:
                for c in t.columns:
                    words = set(lx.name_words(c.name))
                    if c.family in ("number", "time") and words & {"birth", "born", "dob", "birthday"}:
                        hits.append((t, c, flip))
        word = self.cues.tokens[at].text if at >= 0 else "superlative"
        if len(hits) != 1:
            names = ", ".join(f"{t.name}.{c.name}" for t, c, _ in hits) or "no column"
            raise PlanError(
                f"'{word}': which column does it rank by? ({names} fit)",
                hint="Name the column, e.g. 'with the lowest age'.",
            )
        t, c, d = hits[0]
        self._add_order(d, at, True, table=t.label, column=c.name, text=word)
        if self.intent.kind == "listing":
            if limit and not any(d.column for d in self.intent.dimensions):
                # 'the oldest author': the author (key and label), with the column ranked by.
                self.intent.dimensions.append(DimensionIntent(t.label, None, None, []))
            self.intent.dimensions.append(DimensionIntent(t.label, c.name, None, lx.name_words(c.name)))
        else:
            raise PlanError(
                f"'{word}' ranks rows, but this request aggregates.", hint="Ask for the rows, or rank by a measure."
            )
        if limit:
            self.intent.limit = 1
        self.intent.notes.append(f"'{word}' read as {t.name}.{c.name} {'descending' if d == 'desc' else 'ascending'}.")

    def _implied_superlatives(self) -> None:
        for sup in self.cues.superlatives:
            if sup.implied and sup.index not in self._explicit_sups:
                self._implied_order(sup.implied, sup.direction, sup.index, limit=True)

    def _most(self, l: Link, sup) -> None:
        """'the stadium with the most concerts': count them per subject, keep the top one."""
        item = self._choose(l, l.candidates)
        self.intent.measures.append(MeasureIntent("count", item.table, None, l.words))
        self._add_order(sup.direction, l.start, True, measure=len(self.intent.measures) - 1)
        self.intent.limit = 1
        self.intent.notes.append(
            f"'{self.cues.tokens[sup.index].text} {l.text}': the one with the {'most' if sup.direction == 'desc' else 'fewest'} (one row)."
        )
        self._counted = item.table

    def _superlative_column(self, l: Link, sup, qual: str | None) -> None:
        """'the conductor with the most years of work' (a column of the row itself: sort, one
        row); 'the product with the most revenue' (a column of another table: summed per
        subject, sort, one row)."""
        cands = [c for c in l.candidates if c.item.kind == "column"]
        item = self._choose(l, cands or l.candidates, measure=True, qualifier=qual)
        if item.kind != "column":
            raise PlanError(f"'{l.text}': rank by what?", hint="Name a numeric column.")
        others = [t for t in self.intent.subjects if t != item.table]
        if others and self.catalog.foreign_keys and distance(self.catalog, item.table, others[0]) < 99:
            self.intent.kind = "aggregate"
            self.group_plain = True
            self.intent.measures.append(MeasureIntent("sum", item.table, item.column, l.words))
            self._add_order(sup.direction, l.start, True, measure=len(self.intent.measures) - 1)
        else:
            self._add_order(sup.direction, l.start, True, table=item.table, column=item.column, text=l.text)
            self.intent.dimensions.append(DimensionIntent(item.table, item.column, None, l.words))
        self.intent.limit = 1

    def _mode_of(self, l: Link, sup: Superlative, qual: str | None) -> None:
        """'the most common nationality': rows counted per value, the first one kept."""
        cands = [c for c in l.candidates if c.item.kind == "column"]
        item = self._choose(l, cands or l.candidates, qualifier=qual, prefer="column")
        if item.kind != "column":
            raise PlanError(f"The most common '{l.text}' of what?", hint="Name a column, e.g. 'most common status'.")
        self.intent.kind = "aggregate"
        self.intent.dimensions.append(DimensionIntent(item.table, item.column, None, l.words))
        self.intent.measures.append(
            MeasureIntent("count", item.table, None, lx.name_words(entity_of(self.tables[item.table].name)))
        )
        self._add_order(sup.direction, l.start, True, measure=len(self.intent.measures) - 1)
        self.intent.limit = 1
        self.intent.notes.append(f"'most common {l.text}': the {item.describe()} value with the most rows (one row).")

    def _having(self, l: Link, cmp_) -> None:
        """'stations with more than 320 trips': a count per subject, filtered after grouping."""
        item = self._choose(l, l.candidates)
        self.intent.measures.append(MeasureIntent("count", item.table, None, l.words))
        self.intent.having.append(HavingIntent("count", item.table, None, cmp_.op, list(cmp_.values), text=cmp_.text))
        self._counted = item.table

    def _exists(self, l: Link) -> bool:
        """'riders who never took a trip', 'bikes without any maintenance event': the subject's
        rows without a related row (a not exists on the foreign key); 'members who never
        borrowed a book': without a row of the one table that links both (loans)."""
        item = self._choose(l, l.candidates)
        subjects = [t for t in self.context if t != item.table]
        fks = [f for f in self.catalog.foreign_keys if f.table == item.table and f.ref_table in subjects]
        if fks:
            self.intent.exists.append(ExistsIntent(item.table, True, text=l.text))
            return True
        bridges = sorted(
            {
                f.table
                for f in self.catalog.foreign_keys
                if f.ref_table in subjects
                and any(g.table == f.table and g.ref_table == item.table for g in self.catalog.foreign_keys)
            }
        )
        if self.intent.event in bridges:
            bridges = [self.intent.event]
        if len(bridges) != 1:
            return False
        self.context.discard(item.table)
        self.intent.exists.append(ExistsIntent(bridges[0], True, text=l.text))
        self.intent.notes.append(
            f"'{l.text}': through {self.tables[bridges[0]].name}, the table that links them (no row there)."
        )
        return True

    def _negated_event(self, l: Link) -> bool:
        """A negated past-tense verb that names a time column: 'loans that have not been
        returned' (the subject's own column: is null), 'members who never borrowed' (another
        table's event: no row there)."""
        word = l.words[0] if len(l.words) == 1 else ""
        cols = [c.item for c in l.candidates if c.item.kind == "column" and self._column(c.item).family == "time"]
        if not (word.endswith("ed") or word in lx.FILLER_VERBS) or not cols or len({c.table for c in cols}) != 1:
            return False
        table = cols[0].table
        subjects = [t for t in self.context if t != table]
        if table in self.intent.subjects and len(cols) == 1:
            self.intent.filters.append(
                FilterIntent(table, cols[0].column, "is null", [], text=f"not {word}", at=l.start)
            )
            self.intent.notes.append(f"'not {word}': {self.tables[table].name}.{cols[0].column} is null.")
            return True
        if subjects and any(f.table == table and f.ref_table in subjects for f in self.catalog.foreign_keys):
            self.intent.event = table
            self._absorb = table
            self.intent.exists.append(ExistsIntent(table, True, text=f"never {word}"))
            self.intent.notes.append(f"'{word}' read as a {self.tables[table].name} row; none for these.")
            return True
        return False

    def _share_condition(self, l: Link, qual: str | None) -> bool:
        """'percentage of loans with a late fee': after a share phrase, 'with <number column>'
        is the part where it is above 0 ('with <date column>': where it is set)."""
        if self.cues.share is None or l.start < self.cues.share[0]:
            return False
        if not any(self.cues.tokens[i].text == "with" for i in range(self._prev_end_of(l), l.start)):
            return False
        cols = [c for c in l.candidates if c.item.kind == "column"]
        item = self._choose(l, cols, qualifier=qual)
        col = self._column(item)
        if col.family == "number" and not self._is_key(item):
            f = FilterIntent(item.table, item.column, ">", [0], text=f"with {l.text}", at=l.start)
        elif col.family == "time":
            f = FilterIntent(item.table, item.column, "is not null", [], text=f"with {l.text}", at=l.start)
        else:
            return False
        self.intent.filters.append(f)
        self.intent.notes.append(
            f"'with {l.text}': {item.describe()} {f.op} {f.values[0] if f.values else ''}".rstrip() + "."
        )
        return True

    def _prev_end_of(self, l: Link) -> int:
        k = self.links.index(l)
        return self._prev_end(k)

    def _date_of(self, l: Link) -> bool:
        """'the date of each treatment': the event time of the table named after 'date of'."""
        i = l.start - 1
        while i >= 0 and self.cues.role[i] in ("stop", "group") and self.cues.tokens[i].text != "of":
            i -= 1
        if i < 1 or self.cues.tokens[i].text != "of" or self.cues.role[i - 1] != "time":
            return False
        item = self._choose(l, l.candidates)
        col = self._event_time(item.table)
        if col is None:
            return False
        self.intent.dimensions.append(DimensionIntent(item.table, col, None, [col]))
        if item.table not in self.intent.subjects:
            self.intent.subjects.append(item.table)
        self.intent.notes.append(f"'{self.cues.tokens[i - 1].text} of {l.text}': {self.tables[item.table].name}.{col}.")
        return True

    def _absorbed(self, l: Link) -> bool:
        """'never borrowed a book': the object of a negated event verb is part of the event."""
        if self._absorb is None or len(l.candidates) != 1:
            return False
        t = l.candidates[0].item.table
        if any(f.table == self._absorb and f.ref_table == t for f in self.catalog.foreign_keys):
            self.context.discard(t)
            self.intent.notes.append(f"'{l.text}': the {self.tables[self._absorb].name} row's {self.tables[t].name}.")
            self._absorb = None
            return True
        return False

    def _verb_negation(self, n: int) -> bool:
        """'books that were never lent': a negation followed only by verbs and function words,
        about the one subject that exactly one table refers to."""
        after = range(n + 1, len(self.cues.tokens))
        rest = [i for i in after if self.cues.role[i] not in ("stop", "filler")]
        verbs = [i for i in after if self.cues.role[i] == "filler"]
        if rest or not verbs or len(self.intent.subjects) != 1 or self.intent.exists:
            return False
        subject = self.intent.subjects[0]
        refs = sorted({f.table for f in self.catalog.foreign_keys if f.ref_table == subject})
        if len(refs) != 1:
            return False
        words = " ".join(t.text for t in self.cues.tokens[n:])
        self.intent.exists.append(ExistsIntent(refs[0], True, text=words))
        self.intent.notes.append(
            f"'{words}' read as: no {self.tables[refs[0]].name} row for it (the one table that refers to "
            f"{self.tables[subject].name})."
        )
        return True

    def _add_measure(self, m: MeasureIntent) -> None:
        """A measure named twice ('the number of X ... list ... the number') is one measure."""
        if not any(
            (x.agg, x.table, x.column, x.as_date) == (m.agg, m.table, m.column, m.as_date) for x in self.intent.measures
        ):
            self.intent.measures.append(m)

    def _measure(self, l: Link, target: tuple[str, bool], qual: str | None, sup=None) -> None:
        if sup is not None:
            self._add_order(sup.direction, l.start, True, measure=len(self.intent.measures))
            self.intent.limit = 1
            sup = None
        agg = target[0]
        item = self._choose(l, l.candidates, measure=agg in ("sum", "avg"), qualifier=qual)
        time_word = self._next_content(l.end) < len(self.cues.tokens) and (
            self.cues.tokens[self._next_content(l.end)].text in lx.TIME_WORDS
        )
        if (
            item.kind == "table"
            and agg == "max"
            and not time_word
            and self.cues.groups
            and self._event_time(item.table)
        ):
            # 'the latest maintenance event for each bike': that row, one per bike.
            self.intent.kind = "listing"
            self.intent.latest = item.table
            self.intent.notes.append(
                f"'{l.text}': the latest {self.tables[item.table].name} row per group, by "
                f"{self._event_time(item.table)}."
            )
            return
        if item.kind == "table" and agg in ("min", "max") and self._event_time(item.table) is not None:
            # 'the first and last trip': the earliest / latest of its event time.
            col = self._event_time(item.table)
            self.intent.notes.append(f"'{l.text}': {agg} of {self.tables[item.table].name}.{col}, its event time.")
            column = self.tables[item.table].column(str(col))
            as_date = bool(time_word and column is not None and column.data_type.upper().startswith("TIMESTAMP"))
            self._add_measure(MeasureIntent(agg, item.table, col, l.words, as_date=as_date))
            return
        if item.kind == "table":
            if agg in ("avg", "min", "max"):
                raise PlanError(
                    f"'{agg} {l.text}' needs a column: the offline planner cannot average or rank "
                    "whole rows (e.g. 'average orders per customer' needs two aggregation steps).",
                    hint="Name a column, e.g. 'average order amount', or use --llm MODEL.",
                )
            if agg == "sum":
                money = self._money_column(item.table)
                if money == "several":
                    t = self.tables[item.table]
                    raise PlanError(
                        f"'total {l.text}': a total of which amount of {t.name}, or their number?",
                        hint=f"Say 'total <column> of {t.name}' or 'number of {t.name}'.",
                    )
                if money is not None:
                    # 'total invoiced': the sum of the table's one amount, not a count of its rows.
                    self.intent.notes.append(
                        f"'total {l.text}' read as the sum of {self.tables[item.table].name}.{money}."
                    )
                    self._add_measure(MeasureIntent("sum", item.table, money, l.words))
                    return
                self.intent.notes.append(f"'total {l.text}' read as the number of {l.text}.")
            self._add_measure(
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
        self._add_measure(MeasureIntent(agg, item.table, item.column, l.words))

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
            self.intent.dates.append(
                DateIntent(date.op, date.start, date.end, table, column, date.text, relative=date.relative)
            )
        else:
            self.intent.dimensions.append(DimensionIntent(table, column, grain, l.words))
        return True

    def _comparison(self, l: Link, cmp_, qual: str | None) -> None:
        item = self._choose(l, l.candidates, measure=True, qualifier=qual)
        if item.kind == "table":
            t = self.tables[item.table]
            nums = [c for c in t.columns if c.family == "number" and not self._is_key(Item("column", t.label, c.name))]
            # 'trips longer than 60 minutes': the column in minutes, or the one 'longer' implies.
            hints = [{cmp_.unit}] if cmp_.unit and cmp_.unit not in lx.UNITS else []
            hints.append({lx.stem(w) for w in cmp_.implied})
            for hint in hints:
                fit = [
                    c for c in nums if hint & ({lx.stem(w) for w in lx.name_words(c.name)} | set(lx.name_words(c.name)))
                ]
                if len(fit) == 1:
                    nums = fit
                    break
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
            FilterIntent(item.table, item.column, cmp_.op, list(cmp_.values), text=f"{l.text} {cmp_.text}", at=l.start)
        )

    def _filter(self, l: Link, negated: bool, qual: str | None) -> None:
        item = self._choose(l, [c for c in l.candidates if c.item.kind in ("value", "flag")], qualifier=qual)
        if item.kind == "flag":
            self.intent.filters.append(
                FilterIntent(item.table, item.column, "=", [not negated], text=l.text, at=l.start)
            )
            return
        op = "not in" if negated else "in"
        for f in self.intent.filters:
            if f.table == item.table and f.column == item.column and f.op == op:
                f.values += [v for v in item.values if v not in f.values]
                return
        self.intent.filters.append(
            FilterIntent(item.table, item.column, op, list(item.values), text=l.text, at=l.start)
        )

    def _table(self, l: Link, grouped: bool) -> None:
        item = self._choose(l, l.candidates)
        if grouped:
            self.intent.dimensions.append(DimensionIntent(item.table, None, None, l.words))
        elif item.table not in self.intent.subjects:
            self.intent.subjects.append(item.table)

    def _column_role(self, l: Link, grouped: bool, in_top: bool, qual: str | None) -> None:
        cands = [c for c in l.candidates if c.item.kind in ("column", "table")]
        ranking = any(w.function == "rank" for w in self.cues.windows)
        if ranking and grouped and self._mostly_numeric(cands):
            # 'rank products within each category by quantity': ranked by its total.
            item = self._choose(l, cands, measure=True, qualifier=qual)
            if item.kind == "column" and self._column(item).family == "number" and not self._is_key(item):
                self.intent.measures.append(MeasureIntent("sum", item.table, item.column, l.words))
                self.intent.notes.append(f"'by {l.text}': ranked by the total {l.text}.")
                return
        if self.intent.kind == "listing" and self._event_verb(l, item_of=cands, grouped=grouped):
            return  # 'owners who don't have any pets registered': the verb, not a column to list
        if self.intent.kind == "listing" or self.group_plain:
            # Listed as it is (a listing), or what a ranked/filtered count is grouped by (there
            # a word naming a table and a column is the table: 'airlines with at least 10 flights').
            prefer = "table" if self.group_plain and self.intent.kind != "listing" else "column"
            item = self._choose(l, cands or l.candidates, qualifier=qual, prefer=prefer)
            if item.kind == "table":
                return self._table(l, self.group_plain)
            if item.kind != "column":
                return self._filter(l, False, qual)
            self.intent.dimensions.append(DimensionIntent(item.table, item.column, None, l.words))
            if (
                self._top_listing
                and not self.intent.order
                and self._column(item).family == "number"
                and not self._is_key(item)
            ):
                top = self.cues.top
                self._add_order(top.direction if top else "desc", l.start, True, table=item.table, column=item.column)
            return
        if self._event_verb(l, item_of=cands, grouped=grouped):
            return
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
        ref = self._referenced(item)
        if not measure and ref is not None:
            # Grouping by a foreign key ('by start station') groups by the entity it names: its
            # key and label, reached through that key.
            self.intent.dimensions.append(DimensionIntent(ref, None, None, l.words, via=item.column))
            return
        if measure:
            self.intent.measures.append(MeasureIntent("sum", item.table, item.column, l.words))
            self.intent.notes.append(f"'{l.text}' is numeric: summed (say 'average {l.text}' etc. otherwise).")
        else:
            grain = None
            if col.family == "time" and col.data_type.upper().startswith("TIMESTAMP"):
                grain = "day"
            self.intent.dimensions.append(DimensionIntent(item.table, item.column, grain, l.words, grouped=grouped))

    def _event_verb(self, l: Link, *, item_of: list[Candidate], grouped: bool) -> bool:
        """'members who borrowed at each branch': a past-tense verb that names a time column
        (borrowed_at) states the relationship; it is not a column to group by."""
        word = l.words[0] if len(l.words) == 1 else ""
        if grouped or not (word.endswith("ed") or word in lx.FILLER_VERBS) or word in lx.TIME_WORDS:
            return False
        cols = [c.item for c in item_of if c.item.kind == "column"]
        if cols and all(self._column(i).family == "time" for i in cols):
            if len({i.table for i in cols}) == 1:
                self.intent.event = cols[0].table
            self.intent.notes.append(f"'{word}' read as the event that relates the tables, not as a column.")
            return True
        return False

    def _event_time(self, table: str) -> str | None:
        from martsmith.plan.assemble import main_time_column  # assemble imports this module's peers

        col = main_time_column(self.tables[table])
        return col.name if col is not None else None

    def _referenced(self, item: Item) -> str | None:
        """The table a foreign-key column refers to, when that table has a label column."""
        for f in self.catalog.foreign_keys:
            if f.table == item.table and f.column == item.column and f.ref_table in self.tables:
                t = self.tables[f.ref_table]
                if any(t.column(n) for n in (*lx.LABEL_NAMES, f"{entity_of(t.name)}_name")):
                    return f.ref_table
        return None

    def _mostly_numeric(self, cands: list[Candidate]) -> bool:
        return any(c.item.kind == "column" and self._column(c.item).family == "number" for c in cands)

    def _quoted(self) -> None:
        """Quoted literals: a value of some column, or the value of the column named just before."""
        for t in self.cues.tokens:
            if t.kind != "quoted":
                continue
            want = t.text.strip().lower()
            # "whose citizenship is not 'France'": the negation right before the literal.
            k = t.index - 1
            while k >= 0 and self.cues.role[k] == "stop":
                k -= 1
            negated = k >= 0 and k in self.cues.negations
            if negated:
                self.used_negations.add(k)
            hits = [
                c for c in self.ix.names.values() if c.kind == "value" and want in {v.strip().lower() for v in c.values}
            ]
            prev = [l for l in self.links if l.end <= t.index]
            if not hits and prev:
                cols = [c.item for c in prev[-1].candidates if c.item.kind == "column"]
                if cols:
                    item = self._choose(prev[-1], [Candidate(i, 100, 0) for i in cols])
                    op = "!=" if negated else "="
                    self.intent.filters.append(FilterIntent(item.table, item.column, op, [t.text], text=t.text))
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
            op = "not in" if negated else "in"
            self.intent.filters.append(FilterIntent(item.table, item.column, op, values, text=t.text))
            # 'directed by "Ben Jones"': the column named before its value is the filter, not an output.
            self.intent.dimensions = [
                d for d in self.intent.dimensions if not (d.table == item.table and d.column == item.column)
            ]

    def _loose_cues(self, used_dates: set[int], used_grains: set[int], used_cmps: set[int]) -> None:
        # A negation the plan did not apply would leave the opposite answer, built and exit 0:
        # never drop one. (Today only a negated value or flag filter applies it.)
        for n in sorted(self.cues.negations - self.used_negations):
            word = self.cues.tokens[n].text
            if self._verb_negation(n):
                continue
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
                self.intent.dates.append(DateIntent(d.op, d.start, d.end, None, None, d.text, relative=d.relative))
        for c in self.cues.comparisons:
            if id(c) not in used_cmps:
                raise PlanError(f"'{c.text}': compare what?", hint="Put the column before it, e.g. 'amount over 100'.")


__all__ = ["plan_offline"]
