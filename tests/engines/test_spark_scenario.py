"""The same commands on Apache Spark (pyspark's local mode through dbt-spark's `session` method,
the engine and SQL a cluster runs) as on DuckDB: the sample shop loads, `tests` infers and runs
source tests, `model` builds a handful of shapes, `star` builds a star schema — each with the
rows DuckDB gives. A focused scenario: every request is built on both engines and compared.

Spark runs inside the test process and a process has one SparkSession, so these tests share
one project (`spark_shop`) and one xdist group."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from tests.engines.spark import GROUP

pytestmark = pytest.mark.xdist_group(GROUP)

SHAPES = {
    # an aggregate over two deduplicated inputs, a join and a time grain
    "total revenue by customer country per month": "total_revenue_by_customer_country_order_month",
    # a filter (a negated value)
    "number of orders per status, excluding cancelled orders": "order_count_by_status",
    # a window over the aggregate
    "running total of order amount by month": "total_order_amount_by_order_month",
    # a pivot: one column per value read from the data
    "number of payments per month with one column per method": "payment_count_by_payment_month",
    # an anti-join
    "customers who never placed an order": None,
}


def _cli(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)], catch_exceptions=False)


def _rows(project: Path, relation: str) -> list[tuple]:
    """Every row of `relation`, in one order on both engines, values as text (a Spark decimal
    and a DuckDB decimal of the same value print alike)."""
    with Warehouse(load_project(project)) as wh:
        n = len(wh.result_columns(f"select * from {relation}"))
        order = ", ".join(str(i) for i in range(1, n + 1))
        return [tuple(map(str, r)) for r in wh.query(f"select * from {relation} order by {order}")]


def _model_name(output: str) -> str:
    """The model a `model` run wrote (its summary's first line)."""
    return next(line.split()[0] for line in output.splitlines() if "(offline planner)" in line)


def test_init_writes_a_spark_profile_and_loads_the_same_shop_as_duckdb(spark_shop, sample_project_template):
    profile = yaml.safe_load((spark_shop / "profiles.yml").read_text())["shop"]["outputs"]["dev"]
    assert profile["type"] == "spark" and profile["method"] == "session"
    assert str(spark_shop / ".spark") in profile["server_side_parameters"]["spark.sql.warehouse.dir"]
    assert "dialect = sparksql" in (spark_shop / ".sqlfluff").read_text()
    assert ".spark/" in (spark_shop / ".gitignore").read_text()
    tables = ("customers", "products", "orders", "order_items", "payments")
    con = duckdb.connect(str(sample_project_template / "shop.duckdb"), read_only=True)
    try:
        on_duckdb = {t: sorted(map(str, con.execute(f"select * from raw.{t}").fetchall())) for t in tables}
    finally:
        con.close()
    with Warehouse(load_project(spark_shop)) as wh:
        assert wh.adapter == "spark"
        on_spark = {t: sorted(map(str, wh.query(f"select * from raw.{t}"))) for t in tables}
        types = dict(wh.columns(["raw"])[("raw", "orders")])
        comments = dict(wh.relation_comments("raw"))
    assert on_spark == on_duckdb  # the same rows, value for value
    assert types["id"] == "INTEGER" and types["ordered_at"] == "TIMESTAMP"  # the catalog speaks DuckDB's types
    assert "duplicates" in (comments["customers"] or "")  # table comments travel with the data


def test_tests_infers_the_source_tests_duckdb_infers_and_dbt_runs_them_on_spark(spark_shop, sample_project):
    """The profiler and every check (uniqueness, accepted values, relationships by a left join,
    recency, ...) find the same tests and the same problems on both engines."""
    found = {}
    for root in (spark_shop, sample_project):
        result = _cli(root, "tests", "source:shop.orders", "source:shop.payments", "--yes")
        assert result.exit_code == 0, result.output
        assert "dbt test:" in result.output and "passed" in result.output
        found[root] = [line for line in result.output.splitlines() if line.startswith(("  + ", "  ! "))]
    assert found[spark_shop] == found[sample_project]
    assert "  + unique(id)" in found[spark_shop]
    assert any(line.startswith("  ! ") for line in found[spark_shop])  # problems were found, on both


@pytest.mark.parametrize("request_text", list(SHAPES))
def test_each_shape_builds_on_spark_with_the_rows_duckdb_gives(spark_shop, sample_project, request_text):
    on_spark = _cli(spark_shop, "model", request_text, "--yes")
    assert on_spark.exit_code == 0, on_spark.output
    on_duck = _cli(sample_project, "model", request_text, "--yes")
    assert on_duck.exit_code == 0, on_duck.output
    name = _model_name(on_spark.output)
    assert name == _model_name(on_duck.output) and name == (SHAPES[request_text] or name)
    spark_rows = _rows(spark_shop, f"analytics.{name}")
    assert spark_rows == _rows(sample_project, f"main.{name}") and spark_rows
    assert "tests:" in on_spark.output and "passed" in on_spark.output


def test_a_star_schema_builds_on_spark_with_the_rows_duckdb_gives(spark_shop, sample_project):
    """Staging dedupes, surrogate keys, the date dimension's parts and names, unknown members."""
    on_spark = _cli(spark_shop, "star", "--from-source", "shop", "--yes")
    assert on_spark.exit_code == 0, on_spark.output
    on_duck = _cli(sample_project, "star", "--from-source", "shop", "--yes")
    assert on_duck.exit_code == 0, on_duck.output
    models = sorted(
        p.stem for p in (spark_shop / "models").rglob("*.sql") if p.stem.startswith(("stg_", "dim_", "fct_"))
    )
    assert "dim_date" in models and any(m.startswith("fct_") for m in models)
    for model in models:
        assert _rows(spark_shop, f"analytics.{model}") == _rows(sample_project, f"main.{model}"), model
    days = {r[0]: r for r in _rows(spark_shop, "analytics.dim_date")}
    # 2025-01-31 was a Friday: the names are English, unpadded, and Monday is day 1
    assert days["20250131"][1:] == ("2025-01-31", "2025", "1", "1", "January", "5", "31", "5", "Friday", "False")


def test_the_digest_on_spark_names_a_change_outside_the_run(spark_shop):
    """Defence in depth on Spark: a relation created and a table changed behind martsmith's back
    are named."""
    from martsmith.write.digest import changes, take_digest

    with Warehouse(load_project(spark_shop)) as wh:
        wh.execute("create table raw.victim as select 1 as a")
        before = take_digest(wh)
        wh.execute("create table raw.sneaky as select 1 as a")
        wh.execute("insert into raw.victim values (2)")
        after = take_digest(wh)
        wh.execute("drop table raw.sneaky")
        wh.execute("drop table raw.victim")
    assert changes(before, after) == ["raw.sneaky created", "raw.victim: 1 → 2 rows"]


def test_a_read_only_check_on_spark_refuses_a_write_before_it_runs(spark_shop):
    """Spark has no transactions: inside read_only() only queries run."""
    from martsmith.errors import WarehouseError

    with Warehouse(load_project(spark_shop)) as wh:
        with pytest.raises(WarehouseError, match="no transactions"), wh.read_only():
            wh.execute("drop table raw.products")
        assert wh.relation_kind("raw", "products") == "table"
        # A permanent view, qualified or not, is not a temporary view: not dropped in a check.
        wh.execute("create view raw.kept as select 1 as a")
        with pytest.raises(WarehouseError, match="no transactions"), wh.read_only():
            wh.query_native("drop view raw.kept")
        wh.query_native("use raw")
        try:
            with pytest.raises(WarehouseError, match="no transactions"), wh.read_only():
                wh.query_native("drop view kept")
        finally:
            wh.query_native("use default")
        assert wh.relation_kind("raw", "kept") == "view"
        wh.execute("drop view raw.kept")
        with wh.read_only():
            wh.execute('create or replace temp table "probe" as select 1 as a')
            assert wh.temp_columns("probe") == [("a", "INTEGER")]
        assert "probe" not in {t.name for t in wh.con.catalog.listTables() if t.isTemporary}
