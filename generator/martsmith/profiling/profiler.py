"""Profile a relation in as few scans as possible: one query computes every statistic of every
column; one follow-up collects the values of low-cardinality columns and checks key candidates.

Queries per table (counted in `TableProfile.queries`):

1. `count(*)`, only when the catalog does not know the row count yet. DuckDB answers it from
   metadata for a base table. It picks the plan: exact up to the limits, approximate above.
2. The profile pass: per column `count`, distinct count, `min`/`max`; for numbers the exact
   sum and sum of squares (mean and stddev, deterministic), quantiles and negatives; for text
   `min`/`max(length)`; and `histogram` (every value with its count) of columns known to have
   few values (booleans, and columns whose distinct count the catalog already has).
3. Values, only if some column turned out to have at most top_values_limit values in pass 2:
   `histogram` of those columns.
4. Keys, only if there is a candidate to check (see below).

Small tables (row count <= exact_distinct_limit, 1M by default) get exact `count(distinct)`
and keys verified by exact `count(distinct (a, b, ...))`; passes 3 and 4 stay apart because
DuckDB runs `histogram` next to `count(distinct)` ~2.5x slower than the two apart.

Large tables get what profilers at scale compute, every approximation flagged and every
result a pure function of the data (the same at any thread count):

- distinct counts by `approx_count_distinct` (HyperLogLog, ~3.3% standard error):
  `distinct_approximate`, unless a histogram or a bitmap makes them exact;
- quantiles (above exact_quantile_limit, 1M by default) by exact `quantile_cont` on the rows
  whose hash is 0 modulo rows / SAMPLE_ROWS (~100k rows): `quantiles_approximate`. DuckDB's
  `USING SAMPLE ... REPEATABLE` and `approx_quantile` are not repeatable with several threads;
- key candidates: single columns without nulls whose estimate is within KEY_SLACK of the row
  count, and composite ones as for small tables. Integer columns whose range is at most
  BITMAP_MAX_BITS are then counted exactly (`bitstring_agg`, one bit per value: linear and
  small) and are keys or not; the others get an exact check of one hash slice of their values
  (about SLICE_ROWS rows, `count(distinct)` there is cheap): a duplicate there refutes the key,
  none leaves it in `unverified_key_candidates`. Values and keys share pass 3.

So 1 to 4 queries (large tables: at most 3, of which 2 read data), never one per column.
Identifier columns (`id`, `*_id`, `*_key`, `*_sk`) get no mean, stddev or quantiles: they are
labels, not measures. SQL text comes from the small methods of `Dialect` so that another
adapter can override spellings without touching the plan: `PostgresDialect` is PostgreSQL's
(exact distinct counts, histograms as one scalar subquery each, still one query per pass).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from martsmith.context.catalog import Column, Table, type_family
from martsmith.context.warehouse import Warehouse, quote
from martsmith.profiling.types import ColumnProfile, TableProfile

QUANTILES = {"p01": 0.01, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p99": 0.99}
MAX_KEY_COLUMNS = 8  # plausible composite-key columns considered, best first
MAX_KEY_COMBOS = 16  # composite combinations checked in the follow-up query
MAX_KEY_WIDTH = 3
HLL_ERROR = 1.04 / math.sqrt(1024)  # standard error of DuckDB's approx_count_distinct (2^10 registers)
KEY_SLACK = 4 * HLL_ERROR  # estimates this close to the row count may be keys
SAMPLE_ROWS = 100_000  # rows in the quantile sample of a large table
SLICE_ROWS = 250_000  # rows in the hash slice checked for duplicates of an unverifiable key
BITMAP_MAX_BITS = 1 << 27  # 16 MB: the widest integer range counted exactly with a bitmap
ROW_HASH_COLUMNS = 16  # columns hashed to pick the sample rows
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
INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
NARROW_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}  # squares fit a HUGEINT sum
DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*\d+\)$", re.IGNORECASE)


def _of_column(template: str, doc: str = "") -> Callable[[Dialect, str], str]:
    """A Dialect method spelling a statistic of one column: `template` with {col} filled in."""

    def spell(self: Dialect, col: str) -> str:
        return template.format(col=col)

    spell.__doc__ = doc or f"`{template}`"
    return spell


@dataclass(frozen=True)
class Dialect:
    """How each statistic is spelled in SQL. DuckDB's spelling; override per adapter (a
    subclass redefines a method, or gives another template).

    >>> DUCKDB.minimum("price"), DUCKDB.mean("price")
    ('min(price)', 'avg(price::double)')
    """

    count_non_null = _of_column("count({col})")
    minimum = _of_column("min({col})")
    maximum = _of_column("max({col})")
    mean = _of_column("avg({col}::double)")
    stddev = _of_column("stddev_samp({col}::double)")
    negatives = _of_column("count_if({col} < 0)")
    min_length = _of_column("min(length({col}))")
    max_length = _of_column("max(length({col}))")
    values = _of_column(
        "histogram({col})", "Every non-null value with its count (a map, or a list of (value, count) pairs)."
    )

    def count_rows(self) -> str:
        return "count(*)"

    def distinct(self, col: str, *, exact: bool) -> str:
        return f"count(distinct {col})" if exact else f"approx_count_distinct({col})"

    def distinct_tuple(self, cols: list[str]) -> str:
        return f"count(distinct ({', '.join(cols)}))"

    def distinct_bitmap(self, col: str, low: int, high: int) -> str:
        """Exact distinct count of an integer column with values in [low, high]."""
        return f"bit_count(bitstring_agg({col}, {low}, {high}))"

    def slice_duplicates(self, cols: list[str]) -> str:
        """Rows minus distinct values of `cols`, over the rows of a `hash_slice` of them."""
        key = cols[0] if len(cols) == 1 else f"({', '.join(cols)})"
        return f"count(*) - count(distinct {key})"

    def hash_slice(self, cols: list[str], modulus: int) -> str:
        """A deterministic 1/modulus of the rows, chosen by the hash of `cols`."""
        return f"hash({', '.join(cols)}) % {modulus} = 0"

    def moments(self, col: str, *, integer: bool) -> str:
        """The exact sum and sum of squares of an integer or decimal column."""
        square = f"{col}::hugeint * {col}" if integer else f"{col} * {col}"
        return f"{{'sum': sum({col}), 'squares': sum({square})}}"

    def quantiles(self, col: str, fractions: list[float]) -> str:
        return f"quantile_cont({col}::double, [{', '.join(repr(f) for f in fractions)}])"

    def select(self, exprs: list[str], relation: str, where: str = "") -> str:
        sql = "select\n    " + ",\n    ".join(exprs) + f"\nfrom {relation}"
        return sql + (f"\nwhere {where}" if where else "")


DUCKDB = Dialect()


@dataclass(frozen=True)
class PostgresDialect(Dialect):
    """PostgreSQL's spelling. No sketches are built in: distinct counts are exact
    (`count(distinct)`), and a histogram is a scalar subquery of one GROUP BY, so the pass stays
    one query (one round trip) per table.

    >>> POSTGRES.negatives("x"), POSTGRES.hash_slice(["a", "b"], 4)
    ('count(*) filter (where x < 0)', 'mod(abs(hashtext(row(a, b)::text)::bigint), 4) = 0')
    """

    mean = _of_column("avg({col}::float8)")
    stddev = _of_column("stddev_samp({col}::float8)")
    negatives = _of_column("count(*) filter (where {col} < 0)")
    values = _of_column(
        "(select json_agg(json_build_array(v, n)) from (select {col} as v, count(*) as n from __relation__ "
        "where {col} is not null group by 1) as h)",
        "Every non-null value with its count: a JSON list of [value, count] pairs.",
    )

    def distinct(self, col: str, *, exact: bool) -> str:
        return f"count(distinct {col})"

    def distinct_tuple(self, cols: list[str]) -> str:
        return f"count(distinct row({', '.join(cols)}))"

    def distinct_bitmap(self, col: str, low: int, high: int) -> str:
        return f"count(distinct {col})"

    def slice_duplicates(self, cols: list[str]) -> str:
        key = cols[0] if len(cols) == 1 else f"row({', '.join(cols)})"
        return f"count(*) - count(distinct {key})"

    def hash_slice(self, cols: list[str], modulus: int) -> str:
        return f"mod(abs(hashtext(row({', '.join(cols)})::text)::bigint), {modulus}) = 0"

    def moments(self, col: str, *, integer: bool) -> str:
        # Text keeps the exact sums exact through JSON (Fraction reads them back).
        return f"json_build_object('sum', sum({col})::text, 'squares', sum({col}::numeric * {col})::text)"

    def quantiles(self, col: str, fractions: list[float]) -> str:
        return f"percentile_cont(array[{', '.join(repr(f) for f in fractions)}]) within group (order by {col}::float8)"

    def select(self, exprs: list[str], relation: str, where: str = "") -> str:
        return super().select(exprs, relation, where).replace("__relation__", relation)


POSTGRES = PostgresDialect()


@dataclass(frozen=True)
class SparkDialect(Dialect):
    """Spark SQL's spelling: HyperLogLog distinct counts (`approx_count_distinct`) above the
    exact limit, exact `percentile` quantiles, a histogram as a scalar subquery (a map), so the
    pass stays one query per table. Identifiers come double-quoted and the warehouse backquotes
    them.

    >>> SPARK.hash_slice(["a", "b"], 4), SPARK.mean("x")
    ('pmod(hash(a, b), 4) = 0', 'avg(cast(x as double))')
    """

    mean = _of_column("avg(cast({col} as double))")
    stddev = _of_column("stddev_samp(cast({col} as double))")
    values = _of_column(
        "(select map_from_entries(collect_list(struct(v, n))) from (select {col} as v, count(*) as n "
        "from __relation__ where {col} is not null group by 1) as h)",
        "Every non-null value with its count: a map.",
    )

    def distinct_tuple(self, cols: list[str]) -> str:
        return f"count(distinct struct({', '.join(cols)}))"

    def distinct_bitmap(self, col: str, low: int, high: int) -> str:
        return f"count(distinct {col})"

    def slice_duplicates(self, cols: list[str]) -> str:
        key = cols[0] if len(cols) == 1 else f"struct({', '.join(cols)})"
        return f"count(*) - count(distinct {key})"

    def hash_slice(self, cols: list[str], modulus: int) -> str:
        return f"pmod(hash({', '.join(cols)}), {modulus}) = 0"

    def moments(self, col: str, *, integer: bool) -> str:
        # Strings keep the exact sums exact (Fraction reads them back).
        square = f"cast({col} as decimal(38, 0)) * {col}" if integer else f"{col} * {col}"
        return f"named_struct('sum', cast(sum({col}) as string), 'squares', cast(sum({square}) as string))"

    def quantiles(self, col: str, fractions: list[float]) -> str:
        return f"percentile(cast({col} as double), array({', '.join(repr(f) for f in fractions)}))"

    def select(self, exprs: list[str], relation: str, where: str = "") -> str:
        return super().select(exprs, relation, where).replace("__relation__", relation)


SPARK = SparkDialect()
DIALECTS = {"duckdb": DUCKDB, "postgres": POSTGRES, "spark": SPARK}


@dataclass
class _Stat:
    """One expression of a query and where its result goes."""

    column: int  # index into the profile's columns; -1 for the table or a column combination
    stat: str
    sql: str
    combo: tuple[str, ...] = ()  # the columns of a key combination ("combo", "slice" stats)
    where: str = ""  # computed over the rows where this holds (a scalar subquery)


@dataclass
class _Query:
    stats: list[_Stat] = field(default_factory=list)

    def add(self, column: int, stat: str, sql: str) -> None:
        self.stats.append(_Stat(column, stat, sql))

    def sql(self, relation: str, dialect: Dialect) -> str:
        """One SELECT; statistics over a subset of rows (`where`) are grouped by subset, each
        group an aggregate over the relation, and the one-row groups cross-joined."""
        groups: dict[str, list[int]] = {}
        for n, s in enumerate(self.stats):
            groups.setdefault(s.where, []).append(n)
        if list(groups) == [""]:
            return dialect.select([s.sql for s in self.stats], relation)
        parts = [
            "(" + dialect.select([f"{self.stats[n].sql} as s{n}" for n in members], relation, where) + f") g{g}"
            for g, (where, members) in enumerate(groups.items())
        ]
        return dialect.select([f"s{n}" for n in range(len(self.stats))], ",\n".join(parts))


def _nested(col: ColumnProfile) -> bool:
    return col.data_type.upper().startswith(NESTED_TYPES) or "[" in col.data_type


def _base_type(col: ColumnProfile) -> str:
    return col.data_type.upper().split("(")[0].strip()


def _exact_moments(col: ColumnProfile, row_count: int) -> bool | None:
    """Whether the sum of squares fits DuckDB's exact sums: True (integer), False (decimal), None."""
    if _base_type(col) in NARROW_INTEGERS:
        return True
    m = DECIMAL.match(col.data_type)
    if m and 2 * int(m.group(1)) + len(str(max(row_count, 1))) <= 37:  # below HUGEINT's 1.7e38
        return False
    return None


def column_stats(
    i: int,
    col: ColumnProfile,
    *,
    exact: bool,
    sample: str | None,
    with_values: bool,
    row_count: int = 0,
    dialect: Dialect = DUCKDB,
) -> list[_Stat]:
    """The statistics of one column in the profile pass; quantiles on the `sample` rows if given."""
    q = quote(col.name)
    out = [_Stat(i, "non_null", dialect.count_non_null(q)), _Stat(i, "distinct", dialect.distinct(q, exact=exact))]
    if _nested(col):
        return out  # nested values: counts only
    if col.family != "other":
        out += [_Stat(i, "min", dialect.minimum(q)), _Stat(i, "max", dialect.maximum(q))]
    if col.family == "number" and not IDENTIFIER.search(col.name):
        integer = _exact_moments(col, row_count)
        if integer is None:  # floats and wide numbers: floating-point aggregates
            out += [_Stat(i, "mean", dialect.mean(q)), _Stat(i, "stddev", dialect.stddev(q))]
        else:  # exact sums: faster than stddev_samp, and the same at any thread count
            out.append(_Stat(i, "moments", dialect.moments(q, integer=integer)))
        out += [
            _Stat(i, "quantiles", dialect.quantiles(q, list(QUANTILES.values())), where=sample or ""),
            _Stat(i, "negative", dialect.negatives(q)),
        ]
    if col.family == "text":
        out += [_Stat(i, "min_length", dialect.min_length(q)), _Stat(i, "max_length", dialect.max_length(q))]
    if with_values:
        out.append(_Stat(i, "values", dialect.values(q)))
    return out


def run_query(wh: Warehouse, query: _Query, relation: str, dialect: Dialect) -> tuple:
    """Run all statistics of `query` as one SELECT; the row of results, in order."""
    return wh.query_native(query.sql(relation, dialect))[0]


def one_query_per_statistic(wh: Warehouse, query: _Query, relation: str, dialect: Dialect) -> tuple:
    """The naive plan, for comparison: the same statistics, one SELECT each."""
    return tuple(wh.query_native(dialect.select([s.sql], relation, s.where))[0][0] for s in query.stats)


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


def _set_moments(col: ColumnProfile, n: int, value: dict | None) -> None:
    """Mean and sample stddev from the exact sums, in exact arithmetic."""
    if not value or n == 0 or value.get("sum") is None:
        return
    total, squares = Fraction(value["sum"]), Fraction(value["squares"])
    col.mean = float(total / n)
    if n > 1:
        col.stddev = math.sqrt(float(max(squares - total * total / n, Fraction(0)) / (n - 1)))


def _apply(row: tuple, query: _Query, profile: TableProfile) -> dict[tuple[str, ...], int]:
    """Store a query's results in the profile; return the counts of key combinations
    ("combo": distinct count) and the duplicates found in hash slices ("slice")."""
    found: dict[tuple[str, ...], int] = {}
    for stat, value in zip(query.stats, row):
        if stat.stat == "rows":
            profile.row_count = int(value)
            continue
        if stat.stat in ("combo", "slice"):
            found[stat.combo] = int(value or 0)
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
        elif stat.stat == "moments":
            _set_moments(col, profile.row_count - col.null_count, value)
        elif stat.stat == "quantiles":
            col.quantiles = None if value is None else {k: float(v) for k, v in zip(QUANTILES, value)}
        elif stat.stat == "negative":
            col.negative_count = int(value or 0)
        elif stat.stat in ("min_length", "max_length"):
            setattr(col, stat.stat, None if value is None else int(value))
        elif stat.stat == "values":
            col.top_values = _sorted_values(value)
    return found


def _settle_values(col: ColumnProfile, limit: int) -> None:
    """A histogram is the exact distinct set: keep it only for low-cardinality columns."""
    if col.top_values is None:
        return
    col.distinct_count, col.distinct_approximate = len(col.top_values), False
    if len(col.top_values) > limit:
        col.top_values = None


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
    need = profile.row_count * (1 - KEY_SLACK)
    for width in range(2, MAX_KEY_WIDTH + 1):
        ranked = []
        for combo in itertools.combinations(pool, width):
            bound = 1
            for _, _, c in combo:
                bound *= max(c.distinct_count, 1)
            if bound < need:
                continue
            in_table_order = sorted(combo, key=lambda s: s[1])
            ranked.append(
                (
                    sum(s[0] for s in combo),
                    tuple(s[1] for s in in_table_order),
                    tuple(c.name for _, _, c in in_table_order),
                )
            )
        ranked.sort(key=lambda r: (r[0], r[1]))
        combos += [(width, r[2]) for r in ranked]
    return [c for _, c in combos[:MAX_KEY_COMBOS]]


def _minimal(keys: list[tuple[str, ...]], known: Sequence[tuple[str, ...]] = ()) -> list[tuple[str, ...]]:
    """Drop combinations that contain a smaller unique combination (or one of `known`)."""
    out: list[tuple[str, ...]] = []
    for k in sorted(keys, key=len):
        if not any(set(s) <= set(k) for s in [*known, *out]):
            out.append(k)
    return out


def _bitmap_range(col: ColumnProfile, row_count: int) -> tuple[int, int] | None:
    """[min, max] of an integer column small enough to count its values with a bitmap."""
    if _base_type(col) not in INTEGER_TYPES or col.min is None or col.max is None:
        return None
    width = int(col.max) - int(col.min) + 1
    return (int(col.min), int(col.max)) if row_count <= width <= BITMAP_MAX_BITS else None


def _key_checks(
    profile: TableProfile, exact: bool, low_card_limit: int, dialect: Dialect
) -> tuple[list[str], list[_Stat]]:
    """Single-column keys already proven, and the checks of the other candidates."""
    rows, singles, checks = profile.row_count, [], []
    slices = max(1, math.ceil(rows / SLICE_ROWS))
    maybe: set[str] = set()
    for i, col in enumerate(profile.columns):
        if col.null_count or _nested(col):
            continue
        if not col.distinct_approximate:
            if col.distinct_count == rows:
                singles.append(col.name)
            continue
        if col.distinct_count < rows * (1 - KEY_SLACK):
            continue
        maybe.add(col.name)
        q = quote(col.name)
        span = _bitmap_range(col, rows)
        if span is not None:
            checks.append(_Stat(i, "exact_distinct", dialect.distinct_bitmap(q, *span)))
        else:
            checks.append(
                _Stat(i, "slice", dialect.slice_duplicates([q]), (col.name,), dialect.hash_slice([q], slices))
            )
    for combo in composite_candidates(profile, set(singles) | maybe, low_card_limit):
        cols = [quote(c) for c in combo]
        if exact:
            checks.append(_Stat(-1, "combo", dialect.distinct_tuple(cols), combo))
        else:
            checks.append(_Stat(-1, "slice", dialect.slice_duplicates(cols), combo, dialect.hash_slice(cols, slices)))
    return singles, checks


def profile_relation(
    wh: Warehouse,
    table: Table,
    *,
    exact_distinct_limit: int = 1_000_000,
    top_values_limit: int = 30,
    key_candidates: bool = True,
    exact_quantile_limit: int = 1_000_000,
    dialect: Dialect | None = None,
) -> TableProfile:
    """Profile `table` (a catalog Table) in one scan, plus one for keys and late-found values.

    Up to `exact_distinct_limit` rows distinct counts are exact and key candidates verified;
    above it distinct counts are approximate (HyperLogLog) and keys are proven only when a
    bitmap can count them, else refuted or left unverified (see the module docstring). Up to
    `exact_quantile_limit` rows quantiles are exact; above, exact on a deterministic sample.
    Columns with at most `top_values_limit` distinct values get every value with its count.
    Key candidates are single columns with distinct == row_count and no nulls, then minimal
    composite keys of up to 3 plausible columns. A key found in a small table may be unique by
    coincidence: `row_count` tells how much evidence there is.
    """
    dialect = dialect or DIALECTS[wh.dialect]
    relation = table.relation
    profile = TableProfile(label=table.label, relation=relation, row_count=0)
    columns = table.columns
    if not columns:
        profile.queries += 1
        physical = wh.columns([table.schema]).get((table.schema, table.identifier), [])
        columns = [Column(name, dtype) for name, dtype in physical]
    profile.columns = [
        ColumnProfile(
            name=c.name, data_type=c.data_type, family=type_family(c.data_type), null_count=0, distinct_count=0
        )
        for c in columns
    ]

    row_count = table.row_count
    if row_count is None:
        profile.queries += 1
        row_count = int(wh.query_native(f"select {dialect.count_rows()} from {relation}")[0][0])
    exact = row_count <= exact_distinct_limit
    sample = None
    if row_count > exact_quantile_limit:
        hashed = [quote(c.name) for c in profile.columns if not _nested(c)][:ROW_HASH_COLUMNS]
        sample = dialect.hash_slice(hashed, max(2, row_count // SAMPLE_ROWS))
    prior = {c.name: c.distinct_count for c in columns}

    # Pass 2 (1 is the row count): everything about every column.
    main = _Query()
    main.add(-1, "rows", dialect.count_rows())
    for i, col in enumerate(profile.columns):
        known = prior.get(col.name)
        low = col.family == "boolean" or (known is not None and known <= top_values_limit * 1.25 + 2)
        main.stats += column_stats(
            i,
            col,
            exact=exact,
            sample=sample,
            with_values=low and col.family != "other",
            row_count=row_count,
            dialect=dialect,
        )
    profile.queries += 1
    _apply(run_query(wh, main, relation, dialect), main, profile)
    for col in profile.columns:
        col.distinct_approximate = not exact
        col.quantiles_approximate = sample is not None and col.quantiles is not None
        _settle_values(col, top_values_limit)

    # Pass 3: every value of the columns that turned out to have few (estimates get slack).
    values = _Query()
    few = top_values_limit if exact else top_values_limit * (1 + KEY_SLACK) + 2
    for i, col in enumerate(profile.columns):
        if col.top_values is None and col.family != "other" and not _nested(col) and 0 < col.distinct_count <= few:
            values.add(i, "values", dialect.values(quote(col.name)))
    if values.stats and exact:
        profile.queries += 1
        _apply(run_query(wh, values, relation, dialect), values, profile)
        for col in profile.columns:
            _settle_values(col, top_values_limit)
        values = _Query()

    # Pass 4 (large tables: 3, with the values): check key candidates.
    singles: list[str] = []
    checks: list[_Stat] = []
    if key_candidates and profile.row_count > 0:
        singles, checks = _key_checks(profile, exact, top_values_limit, dialect)
    query = _Query(values.stats + checks)
    found: dict[tuple[str, ...], int] = {}
    if query.stats:
        profile.queries += 1
        found = _apply(run_query(wh, query, relation, dialect), query, profile)
        for col in profile.columns:
            _settle_values(col, top_values_limit)

    if key_candidates and profile.row_count > 0:
        rows = profile.row_count
        slices = max(1, math.ceil(rows / SLICE_ROWS))
        for s in checks:
            if s.stat == "exact_distinct" and profile.columns[s.column].distinct_count == rows:
                singles.append(profile.columns[s.column].name)
            elif s.stat == "slice" and found.get(s.combo) == 0 and slices == 1 and len(s.combo) == 1:
                col = profile.columns[s.column]  # the slice was the whole table: an exact check
                col.distinct_count, col.distinct_approximate = rows, False
                singles.append(col.name)
        order = {c.name: i for i, c in enumerate(profile.columns)}
        singles.sort(key=order.__getitem__)
        unique = [s.combo for s in checks if s.stat == "combo" and found.get(s.combo) == rows]
        sliced = [s.combo for s in checks if s.stat == "slice" and found.get(s.combo) == 0]
        sliced = [k for k in sliced if not (len(k) == 1 and k[0] in singles)]
        if slices == 1:
            unique, sliced = unique + sliced, []
        profile.key_candidates = [[s] for s in singles] + [list(k) for k in _minimal(unique)]
        profile.unverified_key_candidates = [list(k) for k in _minimal(sliced, known=[(s,) for s in singles])]
    return profile
