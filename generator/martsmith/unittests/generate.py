"""A dbt unit test of a model from real input rows, decided in memory: context (manifest +
catalog) -> compiled SQL -> shape (sqlglot) -> picked rows (warehouse, read only) -> expected rows
(in-memory DuckDB; on Spark, whose compiled SQL DuckDB does not run, the warehouse itself on
temporary views of the picked rows) -> YAML merge. pipelines/unit_test.py writes it and keeps it
only if `dbt test` passes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from martsmith import __version__
from martsmith.context.catalog import Table, resolve_node
from martsmith.context.conventions import detect_conventions
from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import PlanError, UsageError, ValidationFailed, WriteRefused
from martsmith.unittests.expect import FixtureTable, expected_rows, expected_rows_on
from martsmith.unittests.fixture import merge_unit_test, unit_test_entry
from martsmith.unittests.pick import TEMP_PREFIX, Coverage, Picked, PickInput, RowViews, pick_rows
from martsmith.unittests.shape import ModelShape, model_shape, rel_key
from martsmith.validate.findings import Finding

Progress = Callable[[str], None]
DEFAULT_ROWS = 5


@dataclass
class UnitTestResult:
    model: str
    name: str
    yml_path: Path
    yml: str
    given: list[tuple[str, list[dict[str, Any]]]]
    expect: list[dict[str, Any]]
    coverage: list[Coverage]
    written: bool = False
    passed: bool = False

    def as_dict(self, root: Path) -> dict:
        return {
            "model": self.model,
            "unit_test": self.name,
            "file": str(self.yml_path.relative_to(root)),
            "written": self.written,
            "passed": self.passed,
            "given": {inp: len(rows) for inp, rows in self.given},
            "expected_rows": len(self.expect),
            "coverage": [c.as_dict() for c in self.coverage if c.available],
        }


def unit_test_name(model: str) -> str:
    return f"{model}__real_rows"


def _find_model(ctx, name: str):
    nodes = [
        n
        for n in ctx.manifest.nodes.values()
        if n.resource_type == "model" and name in (n.name, n.unique_id) and n.config.enabled
    ]
    own = [n for n in nodes if n.package_name == ctx.project.name]
    if own or nodes:
        return (own or nodes)[0]
    table = resolve_node(ctx.catalog, name)  # raises UsageError with "did you mean"
    if table.kind == "source":
        raise UsageError(
            f"'{name}' is a source ({table.label}), not a model.",
            hint="dbt unit tests test models: name a model that reads it.",
        )
    return next(n for n in ctx.manifest.nodes.values() if n.unique_id == table.unique_id)


def _input_jinja(table: Table) -> str:
    if table.kind == "source":
        return f"source('{table.source_name}', '{table.name}')"
    return f"ref('{table.name}')"


def _parents(ctx, node) -> list[Table]:
    by_id = {t.unique_id: t for t in ctx.catalog.tables}
    parent_ids = [p for p in node.depends_on.nodes if p.split(".")[0] in ("model", "source", "seed", "snapshot")]
    if not parent_ids:
        raise UsageError(
            f"Model '{node.name}' reads no ref() or source(): there are no input rows to pick.",
            hint="Unit tests from real rows need a model that selects from other models or sources.",
        )
    missing = [p for p in parent_ids if p not in by_id]
    if missing:
        names = ", ".join(p.split(".", 2)[-1] for p in missing)
        raise UsageError(
            f"The inputs of '{node.name}' are not all in the warehouse: {names}.",
            hint=f"Build them first: dbt build --select +{node.name}"
            if any(p.startswith("model.") for p in missing)
            else "Only models and sources can be unit-test inputs here (not seeds or snapshots).",
        )
    return [by_id[p] for p in parent_ids]


def _compiled_sql(ctx, node, progress: Progress) -> str:
    progress(f"compiling {node.name}")
    res = ctx.dbt.invoke(["compile", "--select", node.name])
    if not res.success:
        raise ValidationFailed(
            "dbt compile failed: " + (res.error or "unknown error"), [Finding("compile", res.error or "")]
        )
    for r in getattr(res.raw, "results", None) or []:
        if r.node.unique_id == node.unique_id and getattr(r.node, "compiled_code", None):
            return r.node.compiled_code
    raise ValidationFailed(f"dbt compiled no SQL for {node.name}.")


def _decimals_as_the_warehouse_writes_them(wh: Warehouse, table, rows: list[dict]) -> None:
    """Expected decimals with the scale the model's column has on the warehouse. dbt compares a
    unit test's rows as text, and a Postgres `numeric` keeps each value's own scale (168.00),
    while the expected rows come from DuckDB (168 or 168.000): each decimal column takes the
    scale of a value the built model holds."""
    if table is None or not rows:
        return
    columns = [c for c in rows[0] if any(isinstance(r.get(c), Decimal) for r in rows)]
    if not columns:
        return
    items = ", ".join(f"max({quote(c)})" for c in columns)
    (sample,) = wh.query(f"select {items} from {table.relation}")
    for column, value in zip(columns, sample):
        if not isinstance(value, Decimal):
            continue
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int):
            continue
        step = Decimal(1).scaleb(exponent)
        for r in rows:
            if isinstance(r.get(column), Decimal):
                r[column] = str(r[column].quantize(step))  # as text: the fixture keeps the digits


def _pick(wh: Warehouse, inputs: list[PickInput], shape: ModelShape, max_rows: int, sql: str) -> Picked:
    """The picked rows. A model's SQL compiled for Spark is no query in DuckDB's spelling: where
    the picker runs the model (to find a group through its HAVING), it reads a temporary view of
    it, made by Spark from the SQL as compiled, and dropped after."""
    if not (isinstance(wh, RowViews) and shape.groups):
        return pick_rows(wh, inputs, shape, max_rows=max_rows, sql=sql)
    view = f"{TEMP_PREFIX}model"
    wh.query_native(f"create or replace temporary view {view} as\n{sql.strip().rstrip(';')}")
    try:
        return pick_rows(wh, inputs, shape, max_rows=max_rows, sql=f"select * from {quote(view)}")
    finally:
        wh.query(f"drop table if exists temp.{view}")


# Adapters with their own martsmith.deduplicate; the default version reads the input's columns
# from the warehouse, and in a unit test the input is the CTE of its given rows (macros/sql/deduplicate.sql).
OWN_DEDUPLICATE = ("duckdb", "postgres")


def _fixture_columns(ctx, node, parents: list[Table]) -> dict[str, list[str]] | None:
    """The columns of each input's given rows, by the name of the CTE dbt gives them in a unit
    test, when the model deduplicates with martsmith.deduplicate's default version."""
    if ctx.project.adapter_type in OWN_DEDUPLICATE or "martsmith.deduplicate" not in (node.raw_code or ""):
        return None
    # dbt's CTE names: a source's `<source>__<table>`, a model's identifier, behind `__dbt__cte__`.
    return {
        "__dbt__cte__" + (f"{t.source_name}__{t.name}" if t.kind == "source" else t.identifier): [
            c.name for c in t.columns
        ]
        for t in parents
    }


def _yml_path(ctx, node) -> Path:
    if node.patch_path:
        return ctx.project.root / node.patch_path.split("://", 1)[-1]
    # No properties file yet: where the project keeps one (context/conventions.py).
    return detect_conventions(ctx.project).properties_path(ctx.project.root / node.original_file_path)


def _describe(model: str, max_rows: int) -> str:
    return (
        f"{model} on real input rows (at most {max_rows} per input) picked by martsmith to exercise "
        "its joins, CASE branches, filters and nulls; expected rows computed by running the model "
        "on them. meta.martsmith.covers lists what the rows exercise."
    )


def plan_unit_test(
    ctx, model: str, *, max_rows: int = DEFAULT_ROWS, progress: Progress = lambda _m: None
) -> UnitTestResult:
    """Everything up to the YAML text; writes nothing."""
    node = _find_model(ctx, model)
    if ctx.catalog.table(node.name) is None and not any(t.unique_id == node.unique_id for t in ctx.catalog.tables):
        raise UsageError(
            f"Model '{node.name}' is not built in the warehouse yet.",
            hint=f"Build it first (dbt build --select +{node.name}), then run unit-test again.",
        )
    parents = _parents(ctx, node)
    if all((t.row_count or 0) == 0 for t in parents):
        raise PlanError(
            f"The inputs of '{node.name}' are empty ({', '.join(t.label for t in parents)}): there are no real rows to pick.",
            hint="Load data into them (or build them), then run unit-test again.",
        )
    sql = _compiled_sql(ctx, node, progress)
    schema = {rel_key(t.schema, t.identifier): {c.name: c.data_type for c in t.columns} for t in parents}
    # A model compiled for Spark is Spark's SQL (backquoted names, its functions); Postgres's
    # compiled SQL reads as DuckDB's.
    shape = model_shape(sql, schema, "spark" if ctx.project.adapter_type == "spark" else "duckdb")
    inputs: list[PickInput] = []
    for t in parents:
        key = rel_key(t.schema, t.identifier)
        cols = shape.used.get(key) or [t.columns[0].name]  # count(*) etc.: rows matter, not columns
        order = [t.primary_key] if t.primary_key and t.column(t.primary_key) else []
        inputs.append(PickInput(key, t.relation, cols, order))
    progress(f"picking at most {max_rows} rows per input")
    with Warehouse(ctx.project) as wh:
        picked = _pick(wh, inputs, shape, max_rows, sql)
        progress("computing the expected rows")
        fixtures = [
            FixtureTable(
                t.schema,
                t.identifier,
                [(c.name, c.data_type) for c in t.columns],
                picked.rows[rel_key(t.schema, t.identifier)],
                t.database,
            )
            for t in parents
        ]
        if isinstance(wh, RowViews):  # Spark: its own SQL, on its own types
            expected = expected_rows_on(wh, sql, fixtures, wh.dialect)
        else:
            expected = expected_rows(sql, fixtures)
            if ctx.project.adapter_type != "duckdb":
                _decimals_as_the_warehouse_writes_them(wh, ctx.catalog.table(node.name), expected.rows)
    given = [(_input_jinja(t), picked.rows[rel_key(t.schema, t.identifier)]) for t in parents]
    name = unit_test_name(node.name)
    entry = unit_test_entry(
        name,
        node.name,
        given,
        expected.rows,
        description=_describe(node.name, max_rows),
        meta={
            "version": __version__,
            "covers": [c.reason for c in picked.coverage if c.covered],
        },
        fixture_columns=_fixture_columns(ctx, node, parents),
    )
    yml_path = _yml_path(ctx, node)
    for ut in getattr(ctx.manifest, "unit_tests", {}).values():
        elsewhere = ctx.project.root / ut.original_file_path != yml_path
        if ut.name == name and ut.model == node.name and elsewhere:
            raise WriteRefused(
                f"A unit test named '{name}' already exists in {ut.original_file_path}.",
                hint="Remove or rename it, then try again.",
            )
    yml = merge_unit_test(yml_path, entry)
    return UnitTestResult(node.name, name, yml_path, yml, given, expected.rows, picked.coverage)
