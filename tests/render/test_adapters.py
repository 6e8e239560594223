"""Every golden case on every adapter: the SQL dbt compiles for it, checked into
tests/render/adapters/<adapter>/<case>.sql, and the rows it gives, the same on every engine.

The cases' golden .sql files (tests/render/cases) are built by real dbt — `dbt seed` and
`dbt run` on a small project of their inputs (tests/render/adapter_project.py) — on a DuckDB
file, on the throwaway PostgreSQL of tests/engines, and on Apache Spark (dbt-spark's `session`
method: pyspark in the test process, on the SparkSession and metastore of the Spark tests'
`spark_shop` project, in a schema of its own that is dropped once read). What dbt compiled is
compared with the adapter's golden files; the rows are compared across engines, value for value.
The column types each engine gives are a golden file too (`columns.yml`): a reviewer sees where
they differ.

The warehouses martsmith does not run on yet get the compiled DuckDB SQL transpiled by sqlglot
(unsupported constructs raise), parsed back in their dialect, and stored as goldens too:
tests/render/adapters/<dialect>/<case>.sql, or <case>.unsupported.txt with sqlglot's reason.
DuckDB is the source because its compiled SQL is the one sqlglot needs to rewrite least:
`qualify` is native on Snowflake and BigQuery (Postgres's `distinct on` is rewritten into a
row_number subquery for all three), and its dates, hashes and casts map one to one. Those files
are what a transpiler makes of the SQL, not what dbt would compile on that adapter (it would
dispatch the macros' default__ versions): parsed, never run.

Set MARTSMITH_UPDATE_GOLDEN=1 to rewrite the goldens after an intended change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from tests.engines.spark import GROUP
from tests.golden import assert_golden_tree
from tests.render.adapter_project import Built, build, case_names

GOLDEN = Path(__file__).parent / "adapters"

# The adapters martsmith compiles and runs every case on, each with its test markers. Spark's
# tests share the worker of the other Spark tests: a process has one SparkSession.
ADAPTERS: dict[str, list[pytest.MarkDecorator]] = {
    "duckdb": [pytest.mark.integration],
    "postgres": [pytest.mark.integration, pytest.mark.postgres],
    "spark": [pytest.mark.integration, pytest.mark.spark, pytest.mark.xdist_group(GROUP)],
}
# Spark's build: a fixed schema (the compiled SQL names it), and one dbt thread, as spark_shop's
# profile has (on 2 cores, 2 threads were not clearly faster: local[2] runs each statement on both).
SPARK_SCHEMA, SPARK_THREADS = "adapters", 1
REFERENCE = "duckdb"  # the engine the others' rows are compared with, and the transpiler's source

# Warehouses without an adapter here: the reference's compiled SQL transpiled by sqlglot.
TRANSPILED = ["snowflake", "bigquery", "trino"]
# (dialect, case) -> what sqlglot refuses: each one is in the README's Warehouses table. A case
# that starts to transpile (or stops) fails the test until this list says so.
DOES_NOT_TRANSPILE = {
    ("bigquery", "monthly_revenue_trend"): "NULLS LAST",
}


def _target(adapter: str, folder: Path, request: pytest.FixtureRequest) -> dict:
    if adapter == "duckdb":
        return {"type": "duckdb", "path": str(folder / "adapters.duckdb"), "schema": "main", "threads": 1}
    if adapter == "postgres":
        server = request.getfixturevalue("postgres_server")
        # A fixed database name: the compiled SQL names it (the goldens must not change per run).
        return server.target(server.create_database("adapters"), schema="public")
    if adapter == "spark":
        # The SparkSession this process may already run is spark_shop's (static settings, the
        # metastore and warehouse, cannot change once Spark runs): its target, another schema.
        shop = load_project(request.getfixturevalue("spark_shop"))
        return {**shop.target, "schema": SPARK_SCHEMA, "threads": SPARK_THREADS}
    raise AssertionError(f"no target for {adapter}")


@pytest.fixture(scope="module")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Built]:
    """`built(adapter)`: every case built on the adapter, once per module."""
    cache: dict[str, Built] = {}

    def get(adapter: str) -> Built:
        if adapter not in cache:
            folder = tmp_path_factory.mktemp(f"adapter-{adapter}")
            target = _target(adapter, folder, request)
            try:
                cache[adapter] = build(folder / "project", target)
            finally:
                if adapter == "spark":
                    _drop_schema(folder / "project", SPARK_SCHEMA)
        return cache[adapter]

    return get


def _drop_schema(project: Path, schema: str) -> None:
    """The Spark build's schema, dropped once read: the other Spark tests of the process share
    its metastore, and martsmith's catalog, digest and guards read every schema there."""
    with Warehouse(load_project(project)) as wh:
        wh.query_native(f'drop schema if exists "{schema}" cascade')
        assert schema not in wh.user_schemas()


def _adapters(*names: str) -> list:
    return [pytest.param(a, marks=ADAPTERS[a], id=a) for a in (names or ADAPTERS)]


@pytest.mark.parametrize("adapter", _adapters())
def test_every_case_compiles_to_its_golden_sql_and_runs(adapter, built):
    result = built(adapter)
    assert result.failed == {}, result.failed  # every case (and every seed) built
    assert sorted(result.compiled) == case_names()
    empty = [case for case in case_names() if not result.rows[case]]
    assert empty == [], f"cases with no rows prove nothing about their shape: {empty}"
    columns = {case: dict(result.columns[case]) for case in case_names()}
    files = {f"{case}.sql": sql for case, sql in result.compiled.items()}
    files["columns.yml"] = yaml.safe_dump(columns, sort_keys=False)  # columns in ordinal order
    assert_golden_tree(GOLDEN / adapter, files)


@pytest.mark.parametrize("adapter", _adapters(*(a for a in ADAPTERS if a != REFERENCE)))
def test_every_case_gives_the_reference_engines_rows(adapter, built):
    """Value for value (numbers to 6 places, whatever their type), as multisets: a shape that
    runs but means something else on another engine fails here."""
    reference, other = built(REFERENCE), built(adapter)
    assert other.failed == {} and reference.failed == {}, (other.failed, reference.failed)
    differ = {}
    for case in case_names():
        names = [c for c, _ in reference.columns[case]], [c for c, _ in other.columns[case]]
        if names[0] != names[1] or reference.rows[case] != other.rows[case]:
            differ[case] = {REFERENCE: reference.rows[case], adapter: other.rows[case], "columns": names}
    assert differ == {}, yaml.safe_dump(differ, sort_keys=False)
    assert sum(len(r) for r in other.rows.values()) >= 3 * len(case_names())


# -- what the next adapters would get -------------------------------------------------------


def transpile(sql: str, dialect: str) -> str:
    """`sql` (the reference engine's) in `dialect`, raising on what sqlglot cannot express there,
    then parsed back in `dialect` (a parse error raises too)."""
    import sqlglot  # heavy; only these tests need it
    from sqlglot.errors import ErrorLevel  # same reason

    (out,) = sqlglot.transpile(sql, read=REFERENCE, write=dialect, unsupported_level=ErrorLevel.RAISE, pretty=True)
    sqlglot.parse_one(out, read=dialect, error_level=ErrorLevel.RAISE)
    return out + "\n"


@pytest.mark.parametrize("dialect", TRANSPILED)
def test_the_reference_sql_transpiles_to_the_next_warehouses(dialect):
    import sqlglot  # heavy; only these tests need it

    compiled = {p.stem: p.read_text() for p in sorted((GOLDEN / REFERENCE).glob("*.sql"))}
    assert sorted(compiled) == case_names(), "the reference goldens are stale: run the adapter tests"
    files, refused = {}, {}
    for case, sql in compiled.items():
        try:
            files[f"{case}.sql"] = transpile(sql, dialect)
        except (sqlglot.errors.UnsupportedError, sqlglot.errors.ParseError) as exc:
            refused[case] = str(exc).strip()
            files[f"{case}.unsupported.txt"] = refused[case] + "\n"
    expected = {case: what for (d, case), what in DOES_NOT_TRANSPILE.items() if d == dialect}
    assert sorted(refused) == sorted(expected), refused
    for case, what in expected.items():
        assert what in refused[case], (case, refused[case])
    assert_golden_tree(GOLDEN / dialect, files)
