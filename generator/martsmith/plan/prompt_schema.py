"""Which tables the llm planner's prompt shows: the ones a request needs, out of thousands.

Every table — sources and models alike, structured or `sql_body` ones — is scored against the
request's words: a word in its name counts most, then its source's name ("bike trips"), its
column names and low-cardinality values, then descriptions; each word weighs by how rare it is in the catalog (a word every
table has, like `id`, weighs little; `city`, in one table, a lot). The prompt then shows, within
a budget: tables chosen one by one for what they add — request words no chosen table shows as
well count in full, the others a quarter, and a table much like one already chosen is held back
(so that "trips by start city" keeps the table with `city`, and the trips source, even when a
dozen trip models outscore both) — then the tables joined to those by a foreign key — declared, inferred by the catalog, or role-playing
(`start_station_id` -> stations) as read here from the names.

>>> from martsmith.context.catalog import Catalog, Column, Table
>>> trips = Table("source", "trips", "raw", "trips", source_name="bike", primary_key="trip_id",
...               columns=[Column("trip_id", "INTEGER"), Column("start_station_id", "INTEGER")])
>>> stations = Table("source", "stations", "raw", "stations", source_name="bike", primary_key="id",
...                  columns=[Column("id", "INTEGER"), Column("city", "VARCHAR")])
>>> models = [Table("model", f"trips_by_start_{i}", "main", f"trips_by_start_{i}",
...                 columns=[Column("trip_count", "BIGINT")]) for i in range(12)]
>>> cat = Catalog(tables=[trips, *models, stations])
>>> "stations" in [t.name for t in relevant_tables("trips by start city", cat)]
True
>>> [(f.column, f.ref_table) for f in role_playing_keys(cat)]
[('start_station_id', 'source:bike.stations')]
"""

from __future__ import annotations

import math
import re
from collections import Counter

from martsmith.context.catalog import Catalog, ForeignKey, Table, entity_of, singular

MAX_TABLES = 8  # tables chosen for their words ...
MAX_NEIGHBOURS = 4  # ... plus this many joined to them by a foreign key
NAME, SOURCE, COLUMN, VALUE, DESCRIPTION, COLUMN_DESCRIPTION = 3.0, 2.0, 2.0, 2.0, 1.0, 0.5

STOPWORDS = frozenset(
    """a an the of by per for to in on at and or with without from into each every all any
    me my our show give get list find compute calculate what which who how many much is are be
    was were that this these those as than then it its their there where when over under
    between only also not no new model table tables column columns data number""".split()
)


def words(text: str) -> set[str]:
    """Lower-case singular words of a text, without stopwords; identifiers split on `_`.

    >>> sorted(words("Revenue by customer_country for shipped Orders"))
    ['country', 'customer', 'order', 'revenue', 'shipped']
    """
    raw = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    return {singular(w) for w in raw if w not in STOPWORDS and len(w) > 1}


def table_words(table: Table) -> dict[str, float]:
    """Each word of a table, with the weight of the best place it appears in."""
    found: dict[str, float] = {}

    def add(text: str, weight: float) -> None:
        for w in words(text):
            if found.get(w, 0.0) < weight:
                found[w] = weight

    add(table.description, DESCRIPTION)
    for col in table.columns:
        add(col.description, COLUMN_DESCRIPTION)
        if col.values:
            add(" ".join(col.values), VALUE)
        add(col.name, COLUMN)
    add(table.source_name or "", SOURCE)
    add(table.name, NAME)
    add(entity_of(table.name), NAME)
    return found


def scores(request: str, catalog: Catalog) -> tuple[list[float], dict[str, float], list[dict[str, float]]]:
    """(score of each table, rarity of each request word, each table's words)."""
    req = words(request)
    docs = [table_words(t) for t in catalog.tables]
    df = Counter(w for d in docs for w in d if w in req)
    n = max(len(docs), 1)
    rarity = {w: math.log(1 + n / c) for w, c in df.items()}
    return [sum(d[w] * rarity[w] for w in rarity if w in d) for d in docs], rarity, docs


def relevant_tables(
    request: str, catalog: Catalog, *, max_tables: int = MAX_TABLES, max_neighbours: int = MAX_NEIGHBOURS
) -> list[Table]:
    """The catalog's tables worth showing for `request`, most relevant first: the best table for
    each of its words (rarest words first), then the best of the rest, then tables joined to
    those. When nothing matches, the first `max_tables` tables."""
    tables = catalog.tables
    score, rarity, docs = scores(request, catalog)
    if not rarity:
        return tables[:max_tables]
    candidates = [i for i in range(len(tables)) if score[i] > 0]
    joined = _adjacency(catalog)
    chosen: list[int] = []
    covered: dict[str, float] = {}  # request word -> the best weight a chosen table gives it

    asked = set(rarity)
    # A table joined to another that matches request words it lacks: the pair answers more.
    paired = {i for i in candidates if any((docs[j].keys() & asked) - docs[i].keys() for j in joined[i])}

    def gain(i: int) -> float:
        bonus = JOINED if joined[i] & set(chosen) else PAIRED if i in paired else 1.0
        return _gain(docs, i, rarity, covered, chosen) * bonus

    while candidates and len(chosen) < max_tables:
        best = max(candidates, key=lambda i: (gain(i), score[i], -i))
        if gain(best) <= 0:
            break
        chosen.append(best)
        candidates.remove(best)
        for w in rarity:
            covered[w] = max(covered.get(w, 0.0), docs[best].get(w, 0.0))
    picked = [tables[i] for i in chosen]
    return picked + neighbours(picked, catalog, score, max_neighbours)


REDUNDANT = 0.25  # what a word already shown at the same weight still adds
SIMILAR = 0.7  # how much a table matching the same words as a chosen one is held back
JOINED = 1.5  # how much more a table joined to a chosen one is worth
PAIRED = 1.25  # ... and one joined to a table that matches other words of the request


def _adjacency(catalog: Catalog) -> list[set[int]]:
    """For each table, the tables a foreign key (declared, inferred or role-playing) joins it to."""
    index = {t.label: i for i, t in enumerate(catalog.tables)}
    out: list[set[int]] = [set() for _ in catalog.tables]
    for fk in [*catalog.foreign_keys, *role_playing_keys(catalog)]:
        a, b = index.get(fk.table), index.get(fk.ref_table)
        if a is not None and b is not None:
            out[a].add(b)
            out[b].add(a)
    return out


def _gain(
    docs: list[dict[str, float]], i: int, rarity: dict[str, float], covered: dict[str, float], chosen: list[int]
) -> float:
    """What table `i` would add: its request words, full for those no chosen table shows as well,
    a quarter for the others; held back by its likeness (shared words) to a chosen table (a dozen
    models named alike are worth one)."""
    doc = docs[i]
    gain = sum(doc[w] * rarity[w] * (1.0 if doc[w] > covered.get(w, 0.0) else REDUNDANT) for w in rarity if w in doc)
    if chosen:
        mine = doc.keys()
        likeness = max(len(mine & docs[j].keys()) / max(len(mine | docs[j].keys()), 1) for j in chosen)
        gain *= 1.0 - SIMILAR * likeness
    return gain


def neighbours(picked: list[Table], catalog: Catalog, score: list[float], limit: int) -> list[Table]:
    """Tables joined to `picked` by a foreign key (declared, inferred or role-playing), the
    best scored first, at most `limit`."""
    index = {t.label: i for i, t in enumerate(catalog.tables)}
    labels = {t.label for t in picked}
    near: dict[str, int] = {}
    for n, fk in enumerate([*catalog.foreign_keys, *role_playing_keys(catalog)]):
        for here, there in ((fk.table, fk.ref_table), (fk.ref_table, fk.table)):
            if here in labels and there not in labels and there in index:
                near.setdefault(there, n)
    ranked = sorted(near, key=lambda label: (-score[index[label]], near[label]))
    return [catalog.tables[index[label]] for label in ranked[:limit]]


def role_playing_keys(catalog: Catalog) -> list[ForeignKey]:
    """`<role>_<entity>_id` -> the table of <entity> (`start_station_id` -> stations), for the
    columns the catalog links to nothing: the role hides the entity from its inference (and
    `<entity>_id` -> a table whose key only its name gives, see `key_of`)."""
    linked = {(f.table, f.column) for f in catalog.foreign_keys}
    by_entity: dict[str, list[Table]] = {}
    for t in catalog.tables:
        if key_of(t):
            by_entity.setdefault(entity_of(t.name), []).append(t)
    out: list[ForeignKey] = []
    for t in catalog.tables:
        for col in t.columns:
            name = col.name.lower()
            if (t.label, col.name) in linked or col.name == t.primary_key or not name.endswith(("_id", "_key")):
                continue
            parts = name.rsplit("_", 1)[0].split("_")
            # The whole name first (a key the catalog missed: `order_item_id` -> order_items, whose
            # own key is `item_id`), then without the role, word by word.
            for start in range(len(parts)):
                targets = [x for x in by_entity.get(singular("_".join(parts[start:])), []) if x is not t]
                if targets:
                    # The same source first (a source's keys point into it), then the same kind.
                    targets.sort(key=lambda x: (x.source_name != t.source_name, x.kind != t.kind, x.label))
                    out.append(ForeignKey(t.label, col.name, targets[0].label, key_of(targets[0]) or ""))
                    break
    return out


def key_of(table: Table) -> str | None:
    """The table's primary key, or the column its name says is one: `event_id` in
    `trip_events` (the last words of its entity), when the catalog found none."""
    if table.primary_key:
        return table.primary_key
    names = {c.name.lower(): c.name for c in table.columns}
    parts = entity_of(table.name).split("_")
    for start in range(1, len(parts)):
        candidate = "_".join(parts[start:]) + "_id"
        if candidate in names:
            return names[candidate]
    return None
