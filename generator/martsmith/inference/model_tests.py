"""The tests a generated model carries: its key, plus what test inference finds in its data.

Inference needs data, and the model is not built yet. So the model's SQL — rendered with the same
stand-ins the static checks use — is run once into a connection-local temp table, profiled in a
single pass, and the inferred candidates are checked against it. Candidates the data passes go
into the YAML (and so into the one dbt build that follows); the ones it violates are reported as
findings and not written. Nothing persists: the temp table dies with the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.warehouse import Warehouse, quote
from martsmith.inference.check import check_tests
from martsmith.inference.infer import infer_tests
from martsmith.profiling.profiler import profile_relation
from martsmith.render.jinja_static import relation_map, render_static
from martsmith.render.sql import render_sql
from martsmith.spec import ModelSpec, TestSpec, pivot_columns

PREVIEW = "__martsmith_preview"


@dataclass
class InferredTests:
    tests: list[TestSpec] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    rows: int | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # the preview's (name, type)


@dataclass
class ModelTests:
    """What the data says about a model before it is built."""

    tests: list[TestSpec]
    findings: list[str]
    columns: list[tuple[str, str]]  # output columns and types, from the preview (empty without one)


def key_tests(spec: ModelSpec) -> list[TestSpec]:
    """unique + not_null on the surrogate key of the grain (or on a single-column grain)."""
    if spec.surrogate_key:
        column, why = spec.surrogate_key, "surrogate key of the grain (" + ", ".join(spec.grain) + ")"
    elif len(spec.grain) == 1:
        column, why = spec.grain[0], "the grain"
    else:
        return []
    return [TestSpec(name=name, column=column, reason=why) for name in ("unique", "not_null")]


def listing_key_tests(spec: ModelSpec, catalog: Catalog | None) -> list[TestSpec]:
    """unique + not_null on the base input's key in a listing that selects it (one output row
    per input row; joins are many-to-one, existence filters rows): its grain, when the planner
    named none. The key is the dedupe key (one column) or the table's primary key when the data
    agrees it is unique."""
    if spec.kind != "listing" or spec.grain or spec.surrogate_key or spec.sql_body is not None or not spec.inputs:
        return []
    base_alias = spec.joins[0].left if spec.joins else spec.inputs[0].alias
    base = next(i for i in spec.inputs if i.alias == base_alias)
    key, why = None, ""
    if len(base.dedupe_key) == 1:
        key, why = base.dedupe_key[0], f"one row per {base.dedupe_key[0]} of {base.table} (deduplicated)"
    elif catalog is not None and not base.dedupe_key:
        label = f"source:{base.source_name}.{base.table}" if base.kind == "source" else base.table
        table = catalog.table(label)
        if table is not None and table.primary_key and table.primary_key_unique is not False:
            key, why = table.primary_key, f"one row per {base.table} row: its primary key {table.primary_key}"
    column = next(
        (d.name for d in spec.dimensions if d.input == base_alias and d.column == key and d.time_grain is None), None
    )
    if column is None:
        return []
    reason = f"the listing's grain, {why}"
    return [TestSpec(name=name, column=column, reason=reason) for name in ("unique", "not_null")]


def pivot_guard(spec: ModelSpec, present: list | None = None) -> tuple[list[TestSpec], list[str]]:
    """The `martsmith.values_in` test on the column a pivot splits, so that a value that has no
    column of its own fails the build instead of falling out of every pivoted column; and the
    findings about it. `present`: the column's values in the data now (None: unknown).

    No guard when a filter already keeps only some values of the column (a new value is filtered
    out by design), nor when the data already holds values the pivot leaves out on purpose (it is
    a selection, not a split; a finding says which values fall in no column)."""
    pivot = spec.pivot
    if pivot is None:
        return [], []
    on_column = [f for f in spec.filters if f.input == pivot.input and f.column == pivot.column]
    if any(f.op in ("=", "in") for f in on_column):
        return [], []
    allowed: list = []
    for v in [*pivot.values, *(v for f in on_column if f.op in ("!=", "not in") for v in f.values)]:
        if v is not None and v not in allowed:
            allowed.append(v)
    if not allowed:
        return [], []
    if present is not None:
        known = {str(v) for v in allowed}
        missing = [v for v in present if v is not None and str(v) not in known]
        if missing:
            shown = ", ".join(repr(v) for v in missing[:10]) + (", …" if len(missing) > 10 else "")
            return [], [
                f"the pivot of {pivot.column} has no column for {shown}: those rows are in no "
                f"{pivot.measure}_ column (no martsmith.values_in guard written)"
            ]
    inp = next(i for i in spec.inputs if i.alias == pivot.input)
    to = f"source('{inp.source_name}', '{inp.table}')" if inp.kind == "source" else f"ref('{inp.table}')"
    guard = TestSpec(
        name="martsmith.values_in",
        arguments={"to": to, "field": pivot.column, "values": allowed},
        reason=f"the pivot has one column per value of {pivot.column}: a new value would be in none",
    )
    return [guard], []


def _present_values(spec: ModelSpec, catalog: Catalog, wh: Warehouse) -> list | None:
    """The pivoted column's distinct values in the data now (None when it cannot be read)."""
    pivot = spec.pivot
    assert pivot is not None
    inp = next(i for i in spec.inputs if i.alias == pivot.input)
    table = catalog.table(f"source:{inp.source_name}.{inp.table}" if inp.kind == "source" else inp.table)
    if table is None:
        return None
    found = wh.query(
        f"select distinct {quote(pivot.column)} from {table.relation} where {quote(pivot.column)} is not null limit 51"
    )
    return [row[0] for row in found]


def nullable_columns(spec: ModelSpec) -> set[str]:
    """Output columns that are null on some rows by construction, whatever the data today: a
    ratio or share over a zero, the first row of a lag, a conditional sum where no row matched."""
    out = {r.name for r in spec.ratios}
    out |= {w.name for w in spec.windows if w.function in ("lag", "lead", "change", "percent_change", "share_of_total")}
    pivot = spec.pivot
    for m in spec.measures:
        pivoted = pivot is not None and pivot.measure == m.name
        if pivot is not None and pivoted and m.agg in ("avg", "min", "max"):
            out |= {name for _, name in pivot_columns(m.name, pivot.values)}
        elif m.where and not pivoted and m.agg not in ("count", "count_distinct"):
            out.add(m.name)
    return out


def signed_columns(spec: ModelSpec) -> set[str]:
    """Output columns that may be negative or outside today's range by construction (changes)."""
    return {w.name for w in spec.windows if w.function in ("change", "percent_change")}


def fit_to_shape(spec: ModelSpec, tests: list[TestSpec]) -> list[TestSpec]:
    """Inferred tests without the ones the model's shape will break on other data: not_null (or a
    key) on a column that can be null, a sign or range on a change."""
    nullable, signed = nullable_columns(spec), signed_columns(spec)
    out = []
    for t in tests:
        columns = {t.column} | set(t.arguments.get("combination_of_columns", []))
        if columns & nullable and t.name in ("not_null", "unique", "martsmith.unique_combination_of_columns"):
            continue
        if t.column in signed and t.name in ("martsmith.not_negative", "martsmith.accepted_range"):
            continue
        out.append(t)
    return out


def _identity(test: TestSpec) -> tuple:
    return (test.name, test.column, repr(sorted(test.arguments.items())))


def merge(*groups: list[TestSpec]) -> list[TestSpec]:
    """Tests from all groups, first occurrence wins, order kept."""
    seen: set[tuple] = set()
    out = []
    for group in groups:
        for test in group:
            if _identity(test) not in seen:
                seen.add(_identity(test))
                out.append(test)
    return out


def infer_from_preview(spec: ModelSpec, catalog: Catalog, wh: Warehouse) -> InferredTests:
    """Profile the model's result without building it; infer and check tests on it."""
    plain = render_static(render_sql(spec), relation_map(catalog))
    wh.execute(f"create or replace temp table {quote(PREVIEW)} as {plain}")
    try:
        columns = wh.temp_columns(PREVIEW)
        table = Table(
            kind="model",
            name=spec.name,
            schema=wh.temp_schema,
            identifier=PREVIEW,
            columns=[Column(name, dtype) for name, dtype in columns],
            primary_key=spec.surrogate_key,
        )
        profile = profile_relation(wh, table)
        out = InferredTests(rows=profile.row_count, columns=[(n, t) for n, t in columns])
        candidates = infer_tests(table, profile, catalog, {})
        for result in check_tests(wh, table, profile, candidates, catalog):
            if result.passed:
                out.tests.append(result.test)
            elif result.message or result.dropped:
                out.findings.append(result.message or result.dropped)
        return out
    finally:
        wh.execute(f"drop table if exists temp.{quote(PREVIEW)}")


def model_tests(spec: ModelSpec, catalog: Catalog | None = None, wh: Warehouse | None = None) -> ModelTests:
    """The tests of a generated model — its key tests, then the tests its data supports — with
    the findings its data raised and its output columns.

    Without a warehouse (or when the preview is empty) the model gets a `not_empty` warning
    instead: an empty result usually means a filter matched nothing.
    """
    keys = key_tests(spec) + listing_key_tests(spec, catalog)
    if catalog is None or wh is None:
        inferred = InferredTests()
        present = None
    else:
        inferred = infer_from_preview(spec, catalog, wh)
        present = _present_values(spec, catalog, wh) if spec.pivot else None
    guard, guard_findings = pivot_guard(spec, present)
    tests = merge(spec.tests, keys, guard, fit_to_shape(spec, inferred.tests))
    findings = list(inferred.findings) + guard_findings
    if not inferred.tests:
        tests.append(
            TestSpec(
                name="martsmith.not_empty",
                severity="warn",
                reason="an empty result usually means a filter matched nothing",
            )
        )
        if inferred.rows == 0:
            findings.append("the model's result is empty: no tests could be inferred from its data")
    return ModelTests(tests, findings, inferred.columns)
