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
from martsmith.spec import ModelSpec, TestSpec

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
    keys = key_tests(spec)
    if catalog is None or wh is None:
        inferred = InferredTests()
    else:
        inferred = infer_from_preview(spec, catalog, wh)
    tests = merge(spec.tests, keys, inferred.tests)
    findings = list(inferred.findings)
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
