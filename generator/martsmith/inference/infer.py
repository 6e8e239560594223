"""Profile -> candidate data tests, each with the evidence that produced it (`TestSpec.reason`).

The rules are a tuple of plain functions `rule(facts) -> list[TestSpec]` applied in order; adding
a rule is adding a line to `RULES`. The thresholds and the margin policy live in
`martsmith.inference.evidence` (its docstring is the policy). Candidates are *claims*: the
check stage runs each one against the data before anything is written.

>>> from martsmith.context.catalog import Catalog, Column, Table
>>> from martsmith.profiling.types import ColumnProfile, TableProfile
>>> t = Table("source", "orders", "raw", "orders", source_name="shop", columns=[Column("id", "INTEGER")])
>>> p = TableProfile("source:shop.orders", '"raw"."orders"', 8412,
...     [ColumnProfile("id", "INTEGER", "number", 0, 8412)], key_candidates=[["id"]])
>>> [(s.name, s.column) for s in infer_tests(t, p, Catalog([t]), {})]
[('unique', 'id'), ('not_null', 'id'), ('martsmith.not_empty', None)]
>>> infer_tests(t, p, Catalog([t]), {})[0].reason
'8,412 rows, 0 nulls, 8,412 distinct: primary key by name and data'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from martsmith.context.catalog import Catalog, ForeignKey, Table
from martsmith.inference import evidence as ev
from martsmith.profiling.types import ColumnProfile, TableProfile
from martsmith.render.jinja_safe import data_problem
from martsmith.spec import TestSpec


@dataclass
class Facts:
    """What the rules look at: the node, its profile, the catalog, and what earlier rules
    decided (the key, the foreign keys)."""

    table: Table
    profile: TableProfile
    catalog: Catalog
    profiles: dict[str, TableProfile]
    key: str | None = None  # the primary key column by name (whether or not the data agrees)
    key_unique_in_data: bool = False
    composite: list[str] = field(default_factory=list)  # the composite key chosen, if any
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.profile.row_count

    def numbers(self, col: ColumnProfile) -> str:
        distinct = f"{'~' if col.distinct_approximate else ''}{col.distinct_count:,} distinct"
        return f"{self.rows:,} rows, {col.null_count:,} nulls, {distinct}"


def relation_argument(table: Table) -> str:
    """How a relationships test names its parent: `source('shop', 'customers')` / `ref('x')`."""
    if table.kind == "source":
        return f"source('{table.source_name}', '{table.name}')"
    return f"ref('{table.name}')"


def _no_nulls(col: ColumnProfile | None, rows: int) -> bool:
    return col is not None and col.null_count == 0 and rows > 0


def primary_key(f: Facts) -> list[TestSpec]:
    names = [c.name for c in f.profile.columns]
    lowered = {n.lower(): n for n in names}
    declared = f.table.primary_key if f.table.primary_key in names else None
    by_name = next((lowered[n] for n in ev.primary_key_names(f.table.name) if n in lowered), None)
    f.key = declared or by_name
    if f.key is None:
        return []
    col = f.profile.column(f.key)
    if col is None:
        return []
    singles = {k[0] for k in f.profile.key_candidates if len(k) == 1}
    f.key_unique_in_data = f.key in singles or (col.null_count == 0 and col.distinct_count == f.rows)
    how = "declared primary key" if declared and declared != by_name else "primary key by name"
    verdict = "and data" if f.key_unique_in_data else "(the data has duplicates)"
    return [
        TestSpec(name="unique", column=f.key, reason=f"{f.numbers(col)}: {how} {verdict}"),
        TestSpec(name="not_null", column=f.key, reason=f"{f.rows:,} rows, {col.null_count:,} nulls: {how}"),
    ]


def other_unique_columns(f: Facts) -> list[TestSpec]:
    """Identifier-like columns unique in the data, with enough rows not to be a coincidence."""
    if f.rows < ev.MIN_ROWS_UNIQUE:
        return []
    fk_columns = {fk.column for fk in f.foreign_keys}
    out = []
    for key in f.profile.key_candidates:
        if len(key) != 1 or key[0] == f.key or key[0] in fk_columns:
            continue
        col = f.profile.column(key[0])
        if col is None or col.family not in ("text", "number") or not ev.is_identifier_name(col.name):
            continue
        reason = f"{f.numbers(col)}: an identifier, unique in the data"
        out += [
            TestSpec(name="unique", column=col.name, reason=reason),
            TestSpec(name="not_null", column=col.name, reason=reason),
        ]
    return out


def composite_key(f: Facts) -> list[TestSpec]:
    if f.key_unique_in_data or f.rows < ev.MIN_ROWS_UNIQUE:
        return []
    # A unique identifier makes a composite key redundant; a unique timestamp does not.
    if any(len(k) == 1 and ev.is_identifier_name(k[0]) for k in f.profile.key_candidates):
        return []
    combo = next((k for k in f.profile.key_candidates if len(k) > 1), None)
    evidence = f"{f.rows:,} rows, {f.rows:,} distinct ({', '.join(combo or [])})"
    if combo is None:
        # Large tables: a key the profiler estimated but could not prove; the check stage
        # runs the test on all the data before anything is written.
        combo = next((k for k in f.profile.unverified_key_candidates if len(k) > 1), None)
        evidence = f"{f.rows:,} rows, ~{f.rows:,} distinct ({', '.join(combo or [])}) by estimate"
    if combo is None:
        return []
    f.composite = list(combo)
    return [
        TestSpec(
            name="martsmith.unique_combination_of_columns",
            arguments={"combination_of_columns": list(combo)},
            reason=f"{evidence}, no single-column key: composite key by data",
        )
    ]


def foreign_keys(f: Facts) -> list[TestSpec]:
    out = []
    for fk in f.foreign_keys:
        col = f.profile.column(fk.column)
        parent = f.catalog.table(fk.ref_table)
        if col is None or parent is None:
            continue
        parent_profile = f.profiles.get(parent.label)
        if parent_profile is not None and parent_profile.row_count == 0:
            continue
        how = "declared in the project" if fk.origin == "declared" else "inferred from the name"
        out.append(
            TestSpec(
                name="relationships",
                column=fk.column,
                arguments={"to": relation_argument(parent), "field": fk.ref_column},
                reason=f"foreign key to {parent.label}.{fk.ref_column} ({how}); containment checked in the data",
            )
        )
    return out


def required_columns(f: Facts) -> list[TestSpec]:
    """not_null where the data has no nulls and the meaning requires a value."""
    out = []
    fk_columns = {fk.column for fk in f.foreign_keys}
    composite = set(f.composite)
    for col in f.profile.columns:
        if col.name == f.key or not _no_nulls(col, f.rows):
            continue
        if col.name in fk_columns:
            why = "a foreign key"
        elif col.family == "time" and ev.is_required_event_time(col.name):
            why = "the row's event time"
        elif col.name in composite:
            why = "part of the composite key"
        else:
            continue
        out.append(TestSpec(name="not_null", column=col.name, reason=f"{f.rows:,} rows, 0 nulls: {why}"))
    return out


def categories(f: Facts) -> list[TestSpec]:
    if f.rows < ev.MIN_ROWS_VALUES:
        return []
    fk_columns = {fk.column for fk in f.foreign_keys}
    out = []
    for col in f.profile.columns:
        if col.family != "text" or col.name in (f.key, *fk_columns) or not col.top_values:
            continue
        # Spelling variants ('Germany', 'GERMANY ') are one category written badly: count the
        # categories, so that messy data still gets its test (which then reports the variants).
        values, variants = canonical_values(col.top_values)
        distinct = len(values)
        non_null = f.rows - col.null_count
        if distinct > ev.MAX_VALUES or non_null / distinct < ev.MIN_REPEATS:
            continue
        if ev.is_free_text_name(col.name) or ev.is_identifier_name(col.name) or ev.is_measure_name(col.name):
            continue
        if (col.max_length or 0) > ev.MAX_CATEGORY_LENGTH:
            continue
        reason = f"{non_null:,} values, {distinct} distinct (each seen {non_null // distinct:,} times on average): categorical"
        if variants:
            reason += "; spelling variants left out: " + ", ".join(variants)
        # dbt renders test arguments: a value that is Jinja is never written, so the test
        # then fails on the rows that hold it (a finding, not a rule).
        unsafe = [v for v in values if data_problem(v)]
        if unsafe:
            values = [v for v in values if v not in unsafe]
            reason += f"; {len(unsafe)} value(s) that dbt would run as Jinja left out"
            if not values:
                continue
        out.append(TestSpec(name="accepted_values", column=col.name, arguments={"values": values}, reason=reason))
    return out


def canonical_values(top_values: list[tuple]) -> tuple[list[str], list[str]]:
    """Every observed value, except spelling variants (case, surrounding spaces) of a more
    frequent value: (values, variants left out). The test then fails on the variants, which
    makes them a finding rather than a rule.

    >>> canonical_values([("placed", 50), ("Placed", 3), ("shipped", 40), ("GERMANY ", 2)])
    (['GERMANY ', 'placed', 'shipped'], ['Placed'])
    """
    best: dict[str, tuple[int, str]] = {}
    for value, n in top_values:
        norm = str(value).strip().lower()
        if norm not in best or n > best[norm][0]:
            best[norm] = (n, str(value))
    keep = {v for _, v in best.values()}
    variants = sorted(str(v) for v, _ in top_values if str(v) not in keep)
    return sorted(keep), variants


def _family_number(col: ColumnProfile) -> bool:
    # DECIMAL columns come back as decimal.Decimal: as much a number as int and float.
    return (
        col.family == "number"
        and isinstance(col.min, (int, float, Decimal))
        and isinstance(col.max, (int, float, Decimal))
    )


def measures(f: Facts) -> list[TestSpec]:
    fk_columns = {fk.column for fk in f.foreign_keys}
    keys = {c for k in f.profile.key_candidates for c in k} | {f.key} | fk_columns
    out = []
    for col in f.profile.columns:
        if col.name in keys or ev.is_identifier_name(col.name) or f.rows == col.null_count:
            continue
        if col.family == "text" and ev.is_non_negative_name(col.name):
            out.append(
                TestSpec(
                    name="martsmith.expression_is_true",
                    column=col.name,
                    arguments={"expression": f"= trim({col.name})"},
                    reason=f"{col.name} is a number stored as text ({col.data_type}): stray spaces break casts",
                )
            )
            continue
        if not _family_number(col):
            continue
        negatives = col.negative_count if col.negative_count is not None else (1 if col.min < 0 else 0)
        if ev.is_non_negative_name(col.name):
            non_null = f.rows - col.null_count
            if negatives and negatives > ev.MAX_NEGATIVE_SHARE * non_null:
                continue  # the name misleads: signed values are normal here
            seen = f"min {col.min:g}" if not negatives else f"{negatives:,} negative of {non_null:,}"
            out.append(
                TestSpec(
                    name="martsmith.not_negative",
                    column=col.name,
                    reason=f"{seen}: the name says a {col.name.split('_')[-1]} cannot be negative",
                )
            )
        elif ev.is_measure_name(col.name) and f.rows >= ev.MIN_ROWS_RANGE and col.distinct_count > 2:
            lo, hi = ev.widened_range(float(col.min), float(col.max))
            out.append(
                TestSpec(
                    name="martsmith.accepted_range",
                    column=col.name,
                    arguments={"min_value": lo, "max_value": hi},
                    reason=f"observed {col.min:g}..{col.max:g} over {f.rows:,} rows, widened by "
                    f"{ev.RANGE_MARGIN:g}x the spread and rounded outward",
                )
            )
    return out


def _as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def recency(f: Facts) -> list[TestSpec]:
    if f.rows < ev.MIN_ROWS_RECENCY:
        return []
    best: tuple[datetime, datetime, ColumnProfile] | None = None
    for col in f.profile.columns:
        if col.family != "time" or not ev.is_required_event_time(col.name):
            continue
        latest, earliest = _as_datetime(col.max), _as_datetime(col.min)
        if latest is not None and earliest is not None and (best is None or latest > best[0]):
            best = (latest, earliest, col)
    if best is None:
        return []
    latest, earliest, col = best
    span_days = (latest - earliest).total_seconds() / 86400
    gap = span_days / max(col.distinct_count - 1, 1)
    interval = max(ev.MIN_RECENCY_DAYS, math.ceil(ev.RECENCY_CADENCES * gap))
    return [
        TestSpec(
            name="martsmith.recency",
            arguments={"field": col.name, "datepart": "day", "interval": interval},
            severity="warn",
            reason=f"event table: newest {col.name} {latest:%Y-%m-%d %H:%M}, one new value every "
            f"{gap * 24:.2g} h on average; allows {ev.RECENCY_CADENCES}x that (at least {ev.MIN_RECENCY_DAYS} days)",
        )
    ]


def not_empty(f: Facts) -> list[TestSpec]:
    return [TestSpec(name="martsmith.not_empty", reason=f"{f.rows:,} rows today")]


Rule = Callable[[Facts], list[TestSpec]]
RULES: tuple[Rule, ...] = (
    primary_key,
    other_unique_columns,
    composite_key,
    foreign_keys,
    required_columns,
    categories,
    measures,
    recency,
    not_empty,
)


def infer_tests(
    table: Table, profile: TableProfile, catalog: Catalog, profiles: dict[str, TableProfile]
) -> list[TestSpec]:
    """Candidate tests for one node, most important first; [] for an empty table.

    `profiles` holds the profiles of other nodes (by label) when known: a relationship to an
    empty parent is not proposed.
    """
    if profile.row_count == 0:
        return []
    facts = Facts(table, profile, catalog, profiles)
    facts.foreign_keys = [fk for fk in catalog.foreign_keys if fk.table == table.label]
    out: list[TestSpec] = []
    seen: set[tuple] = set()
    for rule in RULES:
        for spec in rule(facts):
            key = (spec.name, spec.column, repr(sorted(spec.arguments.items())))
            if key not in seen:
                seen.add(key)
                out.append(spec)
    return out
