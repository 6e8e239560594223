"""Profile a relation in as few scans as possible: one query computes every statistic of every
column; small follow-ups collect the values of low-cardinality columns and verify key candidates.

Queries per table (counted in `TableProfile.queries`):

1. `count(*)`, only when the catalog does not know the row count yet. It decides between
   exact `count(distinct)` (row count <= exact_distinct_limit) and `approx_count_distinct`
   (HyperLogLog, above it). DuckDB answers it from metadata for a base table.
2. The profile pass: per column `count`, distinct count, `min`/`max`; for numbers `avg`,
   `stddev_samp`, quantiles and negatives; for text `min`/`max(length)`; and `histogram` (every
   value with its count) of columns known to have few values (booleans, and columns whose
   distinct count the catalog already has).
3. Values, only if some column turned out to have at most top_values_limit values in pass 2:
   `histogram` of those columns.
4. Keys, only if there is a candidate to verify: exact `count(distinct (a, b, ...))` of
   composite candidates (at most MAX_KEY_COMBOS) and exact `count(distinct col)` of single
   columns whose approximate count says they may be unique (large tables).

Passes 3 and 4 are separate because DuckDB runs `histogram` next to `count(distinct)` in one
SELECT ~2.5x slower than the two queries apart (10M rows). So: 1 to 4 queries, 2 scans of
the data in the common case (pass 2, then 4), and never one per column.

Quantiles are exact (`quantile_cont`) up to exact_quantile_limit rows: on DuckDB it costs no
more than `approx_quantile` (t-digest) at 10M rows and, unlike the sampling ones, is
deterministic. Identifier columns (`id`, `*_id`, `*_key`, `*_sk`) get no mean, stddev or
quantiles: they are labels, not measures, and quantiles are the costly statistic.

SQL text comes from the small methods of `Dialect` so that another adapter can override
spellings without touching the plan.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from martsmith.context.catalog import Table, type_family
from martsmith.context.warehouse import Warehouse, quote
from martsmith.profiling.types import ColumnProfile, TableProfile

QUANTILES = {"p01": 0.01, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p99": 0.99}
MAX_KEY_COLUMNS = 8  # plausible composite-key columns considered, best first
MAX_KEY_COMBOS = 16  # composite combinations verified in the follow-up query
MAX_KEY_WIDTH = 3
APPROX_UNIQUE_SLACK = 0.05  # approximate distinct counts this close to the row count get verified
FREE_TEXT_LENGTH = 64  # longer strings are prose, not key parts
IDENTIFIER = re.compile(r"(^|_)(id|key|sk)$", re.IGNORECASE)

# Names of columns that plausibly take part in a key: ids, codes, numbers, dates, periods.
KEY_NAME = re.compile(
    r"(^|_)(id|key|sk|code|no|nr|num|number|line|seq|sequence|version|rank|date|day|week|month|"
    r"quarter|year|period|type|kind)$",
    re.IGNORECASE,
)
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
NESTED_TYPES = ("STRUCT", "MAP", "UNION", "LIST")


@dataclass(frozen=True)
class Dialect:
    """How each statistic is spelled in SQL. DuckDB's spelling; override per adapter."""

    def count_rows(self) -> str:
        return "count(*)"

    def count_non_null(self, col: str) -> str:
        return f"count({col})"

    def distinct(self, col: str, *, exact: bool) -> str:
        return f"count(distinct {col})" if exact else f"approx_count_distinct({col})"

    def distinct_tuple(self, cols: list[str]) -> str:
        return f"count(distinct ({', '.join(cols)}))"

    def minimum(self, col: str) -> str:
        return f"min({col})"

    def maximum(self, col: str) -> str:
        return f"max({col})"

    def mean(self, col: str) -> str:
        return f"avg({col}::double)"

    def stddev(self, col: str) -> str:
        return f"stddev_samp({col}::double)"

    def quantiles(self, col: str, fractions: list[float], *, exact: bool) -> str:
        fn = "quantile_cont" if exact else "approx_quantile"
        return f"{fn}({col}::double, [{', '.join(repr(f) for f in fractions)}])"

    def negatives(self, col: str) -> str:
        return f"count_if({col} < 0)"

    def min_length(self, col: str) -> str:
        return f"min(length({col}))"

    def max_length(self, col: str) -> str:
        return f"max(length({col}))"

    def values(self, col: str) -> str:
        """Every non-null value with its count (a map, or a list of (value, count) pairs)."""
        return f"histogram({col})"

    def select(self, exprs: list[str], relation: str) -> str:
        return "select\n    " + ",\n    ".join(exprs) + f"\nfrom {relation}"


DUCKDB = Dialect()


@dataclass
class _Stat:
    """One expression of a query and where its result goes."""

    column: int  # index into the profile's columns; -1 for the table or a column combination
    stat: str
    sql: str
    combo: tuple[str, ...] = ()  # the columns of a key combination ("combo" stat)


@dataclass
class _Query:
    stats: list[_Stat] = field(default_factory=list)

    def add(self, column: int, stat: str, sql: str) -> None:
        self.stats.append(_Stat(column, stat, sql))

    def sql(self, relation: str, dialect: Dialect) -> str:
        return dialect.select([s.sql for s in self.stats], relation)


def _nested(col: ColumnProfile) -> bool:
    return col.data_type.upper().startswith(NESTED_TYPES) or "[" in col.data_type


def column_stats(
    i: int, col: ColumnProfile, *, exact: bool, exact_quantiles: bool, with_values: bool, dialect: Dialect = DUCKDB
) -> list[_Stat]:
    """The statistics of one column in the profile pass."""
    q = quote(col.name)
    out = [_Stat(i, "non_null", dialect.count_non_null(q)), _Stat(i, "distinct", dialect.distinct(q, exact=exact))]
    if _nested(col):
        return out  # nested values: counts only
    if col.family != "other":
        out += [_Stat(i, "min", dialect.minimum(q)), _Stat(i, "max", dialect.maximum(q))]
    if col.family == "number" and not IDENTIFIER.search(col.name):
        out += [
            _Stat(i, "mean", dialect.mean(q)),
            _Stat(i, "stddev", dialect.stddev(q)),
            _Stat(i, "quantiles", dialect.quantiles(q, list(QUANTILES.values()), exact=exact_quantiles)),
            _Stat(i, "negative", dialect.negatives(q)),
        ]
    if col.family == "text":
        out += [_Stat(i, "min_length", dialect.min_length(q)), _Stat(i, "max_length", dialect.max_length(q))]
    if with_values:
        out.append(_Stat(i, "values", dialect.values(q)))
    return out


def run_query(wh: Warehouse, query: _Query, relation: str, dialect: Dialect) -> tuple:
    """Run all statistics of `query` as one SELECT; the row of results, in order."""
    return wh.query(query.sql(relation, dialect))[0]


def _sorted_values(raw: Any) -> list[tuple[Any, int]]:
    """(value, count) pairs, most frequent first, then by value: deterministic."""
    if isinstance(raw, dict) and set(raw) == {"key", "value"} and isinstance(raw["key"], list):
        pairs = list(zip(raw["key"], raw["value"]))  # older DuckDB map encoding
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        pairs = [(p["key"], p["value"]) if isinstance(p, dict) else tuple(p) for p in raw or []]
    pairs = [(v, int(n)) for v, n in pairs if v is not None]
    try:
        return sorted(pairs, key=lambda p: (-p[1], p[0]))
    except TypeError:
        return sorted(pairs, key=lambda p: (-p[1], str(p[0])))


def _apply(row: tuple, query: _Query, profile: TableProfile) -> dict[tuple[str, ...], int]:
    """Store a query's results in the profile; return the counts of key combinations."""
    combos: dict[tuple[str, ...], int] = {}
    for stat, value in zip(query.stats, row):
        if stat.stat == "rows":
            profile.row_count = int(value)
            continue
        if stat.stat == "combo":
            combos[stat.combo] = int(value)
            continue
        col = profile.columns[stat.column]
        if stat.stat == "non_null":
            col.null_count = profile.row_count - int(value)
        elif stat.stat == "distinct":
            col.distinct_count = int(value or 0)
        elif stat.stat == "exact_distinct":
            col.distinct_count, col.distinct_approximate = int(value or 0), False
        elif stat.stat in ("min", "max"):
            setattr(col, stat.stat, value)
        elif stat.stat in ("mean", "stddev"):
            setattr(col, stat.stat, None if value is None else float(value))
        elif stat.stat == "quantiles":
            col.quantiles = None if value is None else {k: float(v) for k, v in zip(QUANTILES, value)}
        elif stat.stat == "negative":
            col.negative_count = int(value or 0)
        elif stat.stat in ("min_length", "max_length"):
            setattr(col, stat.stat, None if value is None else int(value))
        elif stat.stat == "values":
            col.top_values = _sorted_values(value)
    return combos


def _settle_values(col: ColumnProfile, limit: int) -> None:
    """A histogram is the exact distinct set: keep it only for low-cardinality columns."""
    if col.top_values is None:
        return
    if len(col.top_values) > limit:
        col.top_values = None
        return
    col.distinct_count, col.distinct_approximate = len(col.top_values), False


def _key_score(col: ColumnProfile, low_card_limit: int) -> int | None:
    """How plausible a column is as part of a composite key (lower is better); None if not."""
    if col.null_count or col.distinct_count <= 1 or col.family in ("other", "boolean"):
        return None
    if col.data_type.upper().startswith(FLOAT_TYPES):
        return None  # measures
    named = bool(KEY_NAME.search(col.name))
    if col.family == "text" and (col.max_length or 0) > FREE_TEXT_LENGTH and not named:
        return None  # free text
    if named and col.family != "time":
        return 0
    if col.family == "time":
        return 1
    if col.family == "text" and col.distinct_count <= low_card_limit:
        return 2
    return None  # measures and free text


def composite_candidates(profile: TableProfile, singles: set[str], low_card_limit: int) -> list[tuple[str, ...]]:
    """Column combinations worth verifying as composite keys, best first, at most MAX_KEY_COMBOS.

    A combination is skipped when the product of its columns' distinct counts is below the row
    count (it cannot be unique) or when it contains a single-column key (not minimal).
    """
    scored = []
    for pos, col in enumerate(profile.columns):
        if col.name in singles:
            continue
        score = _key_score(col, low_card_limit)
        if score is not None:
            scored.append((score, pos, col))
    scored.sort(key=lambda s: (s[0], s[1]))
    pool = scored[:MAX_KEY_COLUMNS]
    combos: list[tuple[int, tuple[str, ...]]] = []
    need = profile.row_count * (1 - APPROX_UNIQUE_SLACK)
    for width in range(2, MAX_KEY_WIDTH + 1):
        ranked = []
        for combo in itertools.combinations(pool, width):
            bound = 1
            for _, _, c in combo:
                bound *= max(c.distinct_count, 1)
            if bound < need:
                continue
            in_table_order = sorted(combo, key=lambda s: s[1])
            ranked.append((sum(s[0] for s in combo), tuple(s[1] for s in in_table_order), tuple(c.name for _, _, c in in_table_order)))
        ranked.sort(key=lambda r: (r[0], r[1]))
        combos += [(width, r[2]) for r in ranked]
    return [c for _, c in combos[:MAX_KEY_COMBOS]]


def _minimal(keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop combinations that contain a smaller unique combination."""
    out: list[tuple[str, ...]] = []
    for k in sorted(keys, key=len):
        if not any(set(s) <= set(k) for s in out):
            out.append(k)
    return out


def profile_relation(
    wh: Warehouse,
    table: Table,
    *,
    exact_distinct_limit: int = 1_000_000,
    top_values_limit: int = 30,
    key_candidates: bool = True,
    exact_quantile_limit: int = 20_000_000,
    dialect: Dialect = DUCKDB,
) -> TableProfile:
    """Profile `table` (a catalog Table) in one scan, plus one for keys and late-found values.

    Distinct counts are exact up to `exact_distinct_limit` rows and approximate above
    (HyperLogLog); quantiles are exact up to `exact_quantile_limit` rows (t-digest above). Columns with at most `top_values_limit` distinct values get
    every value with its count. Key candidates are single columns with distinct == row_count
    and no nulls, then minimal composite keys of up to 3 plausible columns, verified exactly.
    A key found in a small table may be unique by coincidence: `row_count` tells how much
    evidence there is.
    """
    relation = table.relation
    profile = TableProfile(label=table.label, relation=relation, row_count=0)
    columns = table.columns
    if not columns:
        profile.queries += 1
        from martsmith.context.catalog import Column

        physical = wh.columns([table.schema]).get((table.schema, table.identifier), [])
        columns = [Column(name, dtype) for name, dtype in physical]
    profile.columns = [
        ColumnProfile(name=c.name, data_type=c.data_type, family=type_family(c.data_type), null_count=0, distinct_count=0)
        for c in columns
    ]

    row_count = table.row_count
    if row_count is None:
        profile.queries += 1
        row_count = int(wh.query(f"select {dialect.count_rows()} from {relation}")[0][0])
    exact = row_count <= exact_distinct_limit
    prior = {c.name: c.distinct_count for c in columns}

    # Pass 2 (1 is the row count): everything about every column.
    main = _Query()
    main.add(-1, "rows", dialect.count_rows())
    for i, col in enumerate(profile.columns):
        known = prior.get(col.name)
        low = col.family == "boolean" or (known is not None and known <= top_values_limit * 1.25 + 2)
        main.stats += column_stats(
            i, col, exact=exact, exact_quantiles=row_count <= exact_quantile_limit,
            with_values=low and col.family != "other", dialect=dialect,
        )
    profile.queries += 1
    _apply(run_query(wh, main, relation, dialect), main, profile)
    for col in profile.columns:
        col.distinct_approximate = not exact
        _settle_values(col, top_values_limit)

    # Pass 3: every value of the columns that turned out to have few.
    values = _Query()
    for i, col in enumerate(profile.columns):
        if col.top_values is None and col.family != "other" and 0 < col.distinct_count <= top_values_limit:
            values.add(i, "values", dialect.values(quote(col.name)))
    if values.stats:
        profile.queries += 1
        _apply(run_query(wh, values, relation, dialect), values, profile)
        for col in profile.columns:
            _settle_values(col, top_values_limit)

    # Pass 4: exact checks of key candidates.
    keys = _Query()
    singles: list[str] = []
    combos: list[tuple[str, ...]] = []
    if key_candidates and profile.row_count > 0:
        for i, col in enumerate(profile.columns):
            if col.null_count or _nested(col):
                continue
            if not col.distinct_approximate:
                if col.distinct_count == profile.row_count:
                    singles.append(col.name)
            elif col.distinct_count >= profile.row_count * (1 - APPROX_UNIQUE_SLACK):
                keys.add(i, "exact_distinct", dialect.distinct(quote(col.name), exact=True))
        maybe_single = {profile.columns[s.column].name for s in keys.stats}
        combos = composite_candidates(profile, set(singles) | maybe_single, top_values_limit)
        for combo in combos:
            keys.stats.append(_Stat(-1, "combo", dialect.distinct_tuple([quote(c) for c in combo]), combo))
    found: dict[tuple[str, ...], int] = {}
    if keys.stats:
        profile.queries += 1
        found = _apply(run_query(wh, keys, relation, dialect), keys, profile)

    if key_candidates and profile.row_count > 0:
        verified = {profile.columns[s.column].name for s in keys.stats if s.stat == "exact_distinct"}
        singles += [c.name for c in profile.columns if c.name in verified and c.distinct_count == profile.row_count]
        order = {c.name: i for i, c in enumerate(profile.columns)}
        singles.sort(key=order.__getitem__)
        unique = [k for k in combos if found.get(k) == profile.row_count]
        profile.key_candidates = [[s] for s in singles] + [list(k) for k in _minimal(unique)]
    return profile
