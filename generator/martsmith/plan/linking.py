"""Schema linking: which tables, columns and column values the words of a request name.

The catalog is turned into an index of *keys* (tuples of word stems) → items. A table is named
by its name words and its entity ("order_items" → "order item(s)"); a column by its name words,
optionally qualified by its table ("customer country"), by its words without time markers
("order date" → ordered_at), without a key suffix ("origin airport" → origin_airport_id), or by
its head word ("price" → unit_price, weaker); a low-cardinality text value by its words
("completed" → orders.status ∋ 'completed', 'Completed'). Request words also stand for their
business synonyms (lexicon.SYNONYMS), at a lower tier.

`link` picks the longest spans of free words that match a key, best tier first. What is left
can fall back to description words; `closest` suggests names for words that place nowhere.
`tables_named` asks the same index which tables a few words name (the star planner's linker).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from martsmith.context.catalog import Catalog, Table, entity_of
from martsmith.context.suggest import suggest
from martsmith.plan import lexicon as lx
from martsmith.plan.cues import Cues
from martsmith.plan.tokens import Token

# Tiers: how a key was made. Higher wins when spans of equal length compete.
EXACT, VALUE, MARKED, STRIPPED, FK_CORE, HEAD, TIME_CORE, DESCRIPTION = 100, 95, 95, 90, 60, 50, 50, 20
SYNONYM_PENALTY = 25
TABLES = frozenset({"table"})  # item kinds, for linking or suggesting tables only
_TABLE_PREFIXES = {"stg", "int", "dim", "fct", "fact", "raw", "src", "base", "mart"}
_GENERIC_SUFFIXES = {lx.stem(w) for w in ("data", "info", "information", "details", "list", "table", "records", "log")}


@dataclass(frozen=True)
class Item:
    """A linkable schema thing. kind: 'table' | 'column' | 'value' | 'flag' (boolean column
    named by its adjective, e.g. is_active ← 'active')."""

    kind: str
    table: str  # Table.label
    column: str | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        name = self.table.split(".")[-1]
        if self.kind == "table":
            return name
        if self.kind == "value":
            return f"{name}.{self.column} = '{self.values[0]}'"
        return f"{name}.{self.column}"


@dataclass
class Candidate:
    item: Item
    tier: int
    rank: int  # synonym rank: 0 = the request's own words


@dataclass
class Link:
    """A span of request tokens [start, end) and the items it may name (best tier only)."""

    start: int
    end: int
    words: list[str]
    candidates: list[Candidate] = field(default_factory=list)
    # Weaker readings of the same words (a qualified column's bare name: 'name' for
    # concert.concert_name), used only when another word of the request names their table.
    others: list[Candidate] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)


def table_words(table: Table) -> list[str]:
    """Name words of a table without dbt layer prefixes: stg_shop__orders -> ['orders']."""
    name = table.name.lower()
    if "__" in name:
        name = name.split("__", 1)[1]
    words = lx.name_words(name)
    while len(words) > 1 and words[0] in _TABLE_PREFIXES:
        words = words[1:]
    return words


def _stems(words: list[str]) -> tuple[str, ...]:
    return tuple(lx.stem(w) for w in words)


@dataclass
class Index:
    keys: dict[tuple[str, ...], dict[Item, int]] = field(default_factory=dict)
    descriptions: dict[str, set[Item]] = field(default_factory=dict)
    names: dict[str, Item] = field(default_factory=dict)  # display name -> item, for suggestions
    max_len: int = 1

    def add(self, key: tuple[str, ...], item: Item, tier: int) -> None:
        if not key:
            return
        slot = self.keys.setdefault(key, {})
        slot[item] = max(slot.get(item, 0), tier)
        self.max_len = max(self.max_len, len(key))


_INDEXES: list[tuple[Catalog, Index]] = []  # the last few catalogs' indexes (the same object, planned again)


def build_index(catalog: Catalog) -> Index:
    """Every key by which a request may name a table, column or value of the catalog. Built
    once per catalog object: a star plans several requests over one catalog, and the index is
    most of a plan's time on a large warehouse."""
    for cat, ix in _INDEXES:
        if cat is catalog:
            return ix
    ix = _build_index(catalog)
    _INDEXES[:] = [*_INDEXES[-3:], (catalog, ix)]
    return ix


def _build_index(catalog: Catalog) -> Index:
    ix = Index()
    for t in catalog.tables:
        titem = Item("table", t.label)
        core = _stems(table_words(t))
        entity = _stems(lx.name_words(entity_of(t.name)))
        qualifiers = {core, entity}
        if len(core) > 1:
            # 'maintenance cost' for maintenance_events.cost: the first word of a compound name.
            qualifiers.add(core[:1])
        for key in (core, entity, _stems(lx.name_words(t.name))):
            ix.add(key, titem, EXACT)
        if len(core) > 1:
            # 'events' for maintenance_events: above a key column's core (event_id), so that
            # 'kind of event' reads the table as the qualifier it is.
            ix.add(core[-1:], titem, FK_CORE + 5)
            if core[-1] in _GENERIC_SUFFIXES:
                ix.add(core[:-1], titem, EXACT)  # cars_data, model_list: the cars, the models
        ix.names[t.name] = titem
        for word in lx.name_words(t.description):
            ix.descriptions.setdefault(lx.stem(word), set()).add(titem)
        for c in t.columns:
            _index_column(ix, t, c, qualifiers)
    _index_roles(ix, catalog)
    return ix


def _index_roles(ix: Index, catalog: Catalog) -> None:
    """Role-playing keys: trips.start_station_id -> stations makes 'start station' name the
    stations table (joined by that key: assemble picks the path by the role word) and 'start
    station city' its city."""
    tables = {t.label: t for t in catalog.tables}
    for f in catalog.foreign_keys:
        ref = tables.get(f.ref_table)
        words = lx.name_words(f.column)
        if ref is None or len(words) < 3 or words[-1] not in lx.KEY_WORDS:
            continue
        core = _stems(words[:-1])
        ent = _stems(lx.name_words(entity_of(ref.name)))
        if len(core) <= len(ent) or core[-len(ent) :] != ent:
            continue
        ix.add(core, Item("table", ref.label), EXACT)
        for c in ref.columns:
            ix.add(core + _stems(lx.name_words(c.name)), Item("column", ref.label, c.name), MARKED)


def _index_column(ix: Index, t: Table, c, qualifiers: set[tuple[str, ...]]) -> None:
    words = lx.name_words(c.name)
    full = _stems(words)
    item = Item("column", t.label, c.name)
    ix.names[f"{t.name}.{c.name}"] = item
    keys: list[tuple[tuple[str, ...], int]] = [(full, EXACT)]
    for q in qualifiers:
        if full[: len(q)] == q and len(full) > len(q):
            keys.append((full[len(q) :], STRIPPED))
    if c.family == "time":
        core = tuple(s for w, s in zip(words, full) if w not in lx.TIME_MARKERS)
        if core:
            keys.append((core, TIME_CORE))
            for marker in ("date", "time", "at", "on", "timestamp", "day"):
                keys.append((core + (lx.stem(marker),), MARKED))
            keys.append(((lx.stem("date"),) + core, MARKED))  # 'date created'
    if len(words) > 1 and words[-1] == "by":
        keys.append((full[:-1], STRIPPED))  # directed_by: 'directed by "Ben Jones"'
    if c.family == "boolean" and len(words) > 1 and words[0] in ("is", "has", "was", "had"):
        ix.add(full[1:], Item("flag", t.label, c.name), VALUE)
    if "of" in words[1:-1]:
        # level_of_membership is the 'membership level', and 'the level'.
        k = words.index("of")
        keys.append((_stems(words[k + 1 :]) + _stems(words[:k]), STRIPPED))
        keys.append((_stems(words[:k]), HEAD))
    if len(words) > 2 and words[-1] not in lx.KEY_WORDS:
        keys.append((full[1:], HEAD))  # song_release_year: 'release year'
    if len(words) > 1 and words[-1] in ("address", "number", "text", "value", "amount"):
        keys.append((full[:-1], HEAD))  # email_address: 'emails'
    if len(words) > 1 and words[-1] in lx.UNIT_SUFFIXES:
        # 'duration_minutes' is the duration, 'fare_amount' the fare.
        keys.append((full[:-1], STRIPPED))
    if len(words) > 1 and words[-1] in lx.KEY_WORDS:
        keys.append((full[:-1], FK_CORE))
    elif len(words) > 1 and words[-1] not in lx.TIME_MARKERS:
        keys.append((full[-1:], HEAD))
    # Closed compounds: 'signup' -> signed_up_on, 'firstname' -> first_name.
    keys += [((lx.stem("".join(k)),), tier) for k, tier in list(keys) if len(k) > 1 and tier >= TIME_CORE]
    for key, tier in keys:
        ix.add(key, item, tier)
        for q in qualifiers if tier >= STRIPPED else ():
            if key[: len(q)] != q:
                ix.add(q + key, item, max(tier, MARKED) if tier >= STRIPPED else tier)
    for word in lx.name_words(c.description):
        if len(word) > 2 and word not in lx.STOPWORDS:
            ix.descriptions.setdefault(lx.stem(word), set()).add(item)
    if c.values:
        groups: dict[tuple[str, ...], list[str]] = {}
        for v in c.values:
            key = _stems(lx.name_words(str(v)))
            if key:
                groups.setdefault(key, []).append(str(v))
        for key, raw in groups.items():
            vitem = Item("value", t.label, c.name, tuple(raw))
            ix.add(key, vitem, VALUE)
            ix.names[f"'{raw[0]}' ({t.name}.{c.name})"] = vitem


def _match(ix: Index, span: list, kinds: frozenset[str] | None = None, *, every: bool = False) -> list[Candidate]:
    """The items the span's words (each as itself or a synonym) name, best tier only (every
    tier with `every`); of the given kinds only, when `kinds` is set."""
    best: dict[Item, Candidate] = {}
    options = [sorted(tok.alts.items(), key=lambda kv: kv[1]) for tok in span]
    combos = list(itertools.product(*options))
    if len(span) == 2:
        # 'high schoolers' for highschooler: two request words that are one word in the schema.
        combos.append(((lx.stem(span[0].text + span[1].text), 0),))
    for combo in combos:
        key = tuple(s for s, _ in combo)
        hits = ix.keys.get(key)
        if not hits:
            continue
        rank = sum(r for _, r in combo)
        for item, tier in hits.items():
            if kinds is not None and item.kind not in kinds:
                continue
            eff = tier - (SYNONYM_PENALTY if rank else 0)
            old = best.get(item)
            if old is None or (eff, -rank) > (old.tier, -old.rank):
                best[item] = Candidate(item, eff, rank)
    if not best:
        return []
    top = max(c.tier for c in best.values())
    return sorted(
        (c for c in best.values() if c.tier == top or every),
        key=lambda c: (c.rank, c.item.table, c.item.column or "", c.item.values),
    )


def _soft(cues: Cues, i: int) -> bool:
    """A one-word cue that may also be part of a name ('invoice total' -> invoice_total)."""
    role = cues.role[i]
    if role == "stop" and cues.tokens[i].text == "of":
        return True  # year_of_work: 'years of work', when the span names the column exactly
    if role == "stop" and cues.tokens[i].text in lx.META_NOUNS:
        return True  # 'bike model', 'report date': a column's word, when the span names it
    if role == "agg":
        return i in cues.aggs and not (
            i + 1 < len(cues.tokens) and cues.role[i + 1] == "agg" and i + 1 not in cues.aggs
        )
    return role == "grain"


def link(cues: Cues, ix: Index) -> list[Link]:
    """Longest-match linking of the free words (cues.role None) to the index; spans never
    cross a function word. A one-word aggregation or grain cue joins a span only when the
    span then names a column exactly ('invoice total', 'order month' as a column name); the
    cue is then dropped. Returns links in request order."""
    toks = cues.tokens
    found: list[Link] = []
    n = len(toks)
    for i in range(n):
        for j in range(i + 1, min(n, i + ix.max_len) + 1):
            if not all((cues.free(k) or _soft(cues, k)) and toks[k].kind == "word" for k in range(i, j)):
                break
            soft = [k for k in range(i, j) if not cues.free(k)]
            meta = bool(soft) and all(toks[k].text in lx.META_NOUNS for k in soft)
            if soft and not meta and (j - i < 2 or len(soft) == j - i):
                continue
            cands = _match(ix, toks[i:j])
            if soft:
                # A cue word in a name: only an exact column name ('result' for battle.result).
                floor = EXACT if len(soft) == j - i else STRIPPED
                cands = [c for c in cands if c.tier >= floor and c.rank == 0 and (not meta or c.item.kind == "column")]
            if cands:
                others = [
                    c
                    for c in _match(ix, toks[i:j], every=True)
                    if c.tier >= STRIPPED and c.rank == 0 and c not in cands and c.item.kind == "column"
                ]
                found.append(Link(i, j, [t.text for t in toks[i:j]], cands, others))
    found.sort(key=lambda l: (-(l.end - l.start), -l.candidates[0].tier, l.start))
    taken: set[int] = set()
    chosen: list[Link] = []
    for l in found:
        if taken.isdisjoint(range(l.start, l.end)):
            chosen.append(l)
            taken.update(range(l.start, l.end))
            for k in range(l.start, l.end):
                if not cues.free(k):
                    cues.role[k] = None
                    cues.aggs.pop(k, None)
                    cues.grains = [g for g in cues.grains if g.index != k]
    return sorted(chosen, key=lambda l: l.start)


def tables_named(words: list[str], ix: Index) -> list[Candidate]:
    """The tables `words` name together by their name or entity, in the words themselves
    (rank 0) or in business synonyms (lexicon.SYNONYMS, rank > 0), best first; [] when they
    name none. A table named by its head word only ('items' for order_items) does not count.

    >>> orders = Table("source", "order_items", "raw", "order_items", source_name="shop")
    >>> [(c.item.describe(), c.rank) for c in tables_named(["order", "lines"], build_index(Catalog([orders])))]
    [('order_items', 2)]
    """
    span = [Token("word", part, alts=lx.alternatives(part)) for w in words for part in lx.name_words(w)]
    if not span:
        return []
    return [c for c in _match(ix, span, TABLES) if c.tier >= EXACT - SYNONYM_PENALTY]


def describe_fallback(word: str, ix: Index) -> list[Candidate]:
    """Items whose description mentions the word (a last resort before 'unplaced')."""
    items = ix.descriptions.get(lx.stem(word), set())
    return sorted((Candidate(i, DESCRIPTION, 0) for i in items), key=lambda c: (c.item.table, c.item.column or ""))


def closest(word: str, ix: Index, n: int = 3, *, kinds: frozenset[str] | None = None) -> list[str]:
    """Up to n catalog names (tables, table.column, 'value' (table.column)) closest to word,
    compared whole and word by word; `kinds` keeps items of those kinds only (e.g. tables)."""
    names = [name for name, item in ix.names.items() if kinds is None or item.kind in kinds]
    return suggest(word, names, n=n, parts=lambda name: lx.name_words(name.split("(")[0]))
