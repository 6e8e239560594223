"""The same commands on a real PostgreSQL (a throwaway cluster, tests/engines/postgres.py) as on
DuckDB: the sample shop loads, `tests` infers and runs source tests, `model` builds and tests a
model, and the rows match DuckDB's. A focused scenario: the full one runs on DuckDB elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from tests.conftest import SAMPLE_SCALE


def _cli(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)], catch_exceptions=False)


@pytest.fixture(scope="module")
def pg_shop(postgres_server, tmp_path_factory) -> Path:
    """`martsmith init shop --sample --adapter postgres` on a database of its own."""
    db = postgres_server.create_database(f"shop_{os.getpid()}")
    env = {"PGHOST": postgres_server.host, "PGPORT": str(postgres_server.port), "PGUSER": "postgres", "PGDATABASE": db}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        root = tmp_path_factory.mktemp("pg") / "shop"
        result = CliRunner().invoke(
            main, ["init", str(root), "--sample", "--adapter", "postgres", "--scale", str(SAMPLE_SCALE)]
        )
        assert result.exit_code == 0, result.output
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root


def test_init_writes_a_postgres_profile_and_loads_the_same_shop_as_duckdb(pg_shop, sample_project_template):
    profile = yaml.safe_load((pg_shop / "profiles.yml").read_text())["shop"]["outputs"]["dev"]
    assert profile["type"] == "postgres" and "PGPASSWORD" in profile["password"]
    assert "dialect = postgres" in (pg_shop / ".sqlfluff").read_text()
    tables = ("customers", "products", "orders", "order_items", "payments")
    con = duckdb.connect(str(sample_project_template / "shop.duckdb"), read_only=True)
    try:
        on_duckdb = {t: sorted(map(str, con.execute(f"select * from raw.{t}").fetchall())) for t in tables}
    finally:
        con.close()
    with Warehouse(load_project(pg_shop)) as wh:
        assert wh.adapter == "postgres"
        on_postgres = {t: sorted(map(str, wh.query(f"select * from raw.{t}"))) for t in tables}
        types = dict(wh.columns(["raw"])[("raw", "orders")])
    assert {t: len(r) for t, r in on_postgres.items()} == {t: len(r) for t, r in on_duckdb.items()}
    assert on_postgres["customers"] == on_duckdb["customers"]  # the same rows, value for value
    assert types["id"] == "INTEGER" and types["ordered_at"] == "TIMESTAMP"  # the catalog speaks DuckDB's types


def test_tests_infers_source_tests_and_dbt_runs_them_on_postgres(pg_shop):
    result = _cli(pg_shop, "tests", "source:shop.payments", "--yes")
    assert result.exit_code == 0, result.output
    assert "+ unique(id)" in result.output
    assert "+ accepted_values(method) values=['bank_transfer', 'coupon', 'credit_card', 'gift_card']" in result.output
    assert "dbt test:" in result.output and "passed" in result.output
    sources = yaml.safe_load((pg_shop / "models/staging/shop/_shop__sources.yml").read_text())
    payments = next(t for t in sources["sources"][0]["tables"] if t["name"] == "payments")
    assert any("unique" in (c.get("data_tests") or []) for c in payments["columns"] if c["name"] == "id")


def test_model_builds_on_postgres_with_the_rows_duckdb_gives(pg_shop, sample_project):
    request = "number of payments per method"
    on_pg = _cli(pg_shop, "model", request, "--yes")
    assert on_pg.exit_code == 0, on_pg.output
    assert "built: 4 rows; tests: 3 passed" in on_pg.output
    on_duck = _cli(sample_project, "model", request, "--yes")
    assert on_duck.exit_code == 0, on_duck.output
    sql = "select method, payment_count from payment_count_by_method order by method"
    with Warehouse(load_project(pg_shop)) as wh:
        pg_rows = wh.query(sql.replace("from ", "from public."))
    with Warehouse(load_project(sample_project)) as wh:
        duck_rows = wh.query(sql.replace("from ", "from main."))
    assert pg_rows == duck_rows and len(pg_rows) == 4


def test_unit_test_picks_rows_on_postgres_and_dbt_runs_it_there(pg_shop):
    """The row picker stages its rows in Postgres temp tables (pg_temp, dropped after); the
    expected rows are computed from them and dbt runs the unit test on Postgres."""
    built = _cli(pg_shop, "model", "total revenue by customer country per month", "--name", "pg_unit_revenue", "--yes")
    assert built.exit_code == 0, built.output
    result = _cli(pg_shop, "unit-test", "pg_unit_revenue", "--yes")
    assert result.exit_code == 0, result.output
    assert "dbt test: passed" in result.output, result.output
    with Warehouse(load_project(pg_shop)) as wh:
        leftovers = wh.query("select count(*) from pg_tables where tablename like '__martsmith_pick_%'")
    assert leftovers == [(0,)]


def test_the_digest_on_postgres_names_a_change_outside_the_run(pg_shop):
    """Defence in depth on Postgres: a relation created behind martsmith's back is named."""
    from martsmith.write.digest import changes, take_digest

    project = load_project(pg_shop)
    with Warehouse(project) as wh:
        before = take_digest(wh)
        wh.execute("create table raw.sneaky as select 1 as a")
        wh.execute("update raw.products set price = price + 1 where id = 1")
        after = take_digest(wh)
        wh.execute("drop table raw.sneaky")
        wh.execute("update raw.products set price = price - 1 where id = 1")
    assert changes(before, after) == ["raw.products: contents changed (same 27 rows)", "raw.sneaky created"]


def test_an_unsupported_adapter_is_refused_in_one_line(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    (tmp_path / "profiles.yml").write_text("p:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n")
    result = CliRunner().invoke(
        main, ["model", "anything", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path)]
    )
    assert result.exit_code == 3
    assert "'snowflake' adapter" in result.output and "duckdb, postgres" in result.output


# -- generated SQL that is not DuckDB's: the dedupe, the date dimension ------------------------


def _rows(project: Path, schema: str, model: str) -> list[tuple]:
    """Every row of `model`, in one order on both engines, values as text (a Postgres numeric
    and a DuckDB decimal of the same value print alike)."""
    with Warehouse(load_project(project)) as wh:
        (n,) = wh.query(f"select count(*) from information_schema.columns where table_name = '{model}'")[0]
        order = ", ".join(str(i) for i in range(1, n + 1))
        return [tuple(map(str, r)) for r in wh.query(f"select * from {schema}.{model} order by {order}")]


def test_a_deduplicated_model_builds_on_postgres_with_the_rows_duckdb_gives(pg_shop, sample_project):
    """Orders and customers carry late-arriving updates: both imports go through
    martsmith.deduplicate (distinct on, on Postgres; qualify on DuckDB)."""
    request = "total revenue by customer country per month"
    on_pg = _cli(pg_shop, "model", request, "--yes")
    assert on_pg.exit_code == 0, on_pg.output
    on_duck = _cli(sample_project, "model", request, "--yes")
    assert on_duck.exit_code == 0, on_duck.output
    name = "total_revenue_by_customer_country_order_month"
    sql = (pg_shop / f"models/marts/{name}.sql").read_text()
    assert sql.count("martsmith.deduplicate(") == 2 and "qualify" not in sql
    compiled = next((pg_shop / "target" / "compiled").rglob(f"{name}.sql")).read_text()
    assert compiled.count("select distinct on (id) *") == 2
    pg_rows, duck_rows = _rows(pg_shop, "public", name), _rows(sample_project, "main", name)
    assert pg_rows == duck_rows and len(pg_rows) > 10


def test_a_star_schema_builds_on_postgres_with_the_rows_duckdb_gives(pg_shop, sample_project):
    """Staging dedupes, surrogate keys, the date dimension's keys, day and month names."""
    on_pg = _cli(pg_shop, "star", "--from-source", "shop", "--yes")
    assert on_pg.exit_code == 0, on_pg.output
    on_duck = _cli(sample_project, "star", "--from-source", "shop", "--yes")
    assert on_duck.exit_code == 0, on_duck.output
    models = sorted(p.stem for p in (pg_shop / "models").rglob("*.sql") if p.stem.startswith(("stg_", "dim_", "fct_")))
    assert models == sorted(
        p.stem for p in (sample_project / "models").rglob("*.sql") if p.stem.startswith(("stg_", "dim_", "fct_"))
    )
    assert "dim_date" in models and any(m.startswith("fct_") for m in models)
    staged = (pg_shop / "models/staging/shop/stg_shop__customers.sql").read_text()
    assert "martsmith.deduplicate(" in staged  # customers carry late-arriving updates
    for model in models:
        assert _rows(pg_shop, "public", model) == _rows(sample_project, "main", model), model
    days = {r[0]: r for r in _rows(pg_shop, "public", "dim_date")}
    # 2025-01-31 was a Friday: the names are English, unpadded, and Monday is day 1
    assert days["20250131"][1:] == ("2025-01-31", "2025", "1", "1", "January", "5", "31", "5", "Friday", "False")


def test_the_portable_default_macros_give_what_the_postgres_ones_give(pg_shop):
    """The default__ versions (any other adapter) against postgres__ on the same server: the
    numbered dedupe selects exactly the relation's columns, the date parts and names agree."""
    models = pg_shop / "models" / "portable_checks"
    models.mkdir()
    (models / "dedupe_default.sql").write_text(
        "{{ martsmith.default__deduplicate(source('shop', 'customers'), 'id', 'updated_at desc nulls last') }}\n"
    )
    (models / "dedupe_postgres.sql").write_text(
        "{{ martsmith.postgres__deduplicate(source('shop', 'customers'), 'id', 'updated_at desc nulls last') }}\n"
    )
    parts = ("date_key", "iso_day_of_week", "day_name", "month_name")
    for impl in ("default", "postgres"):
        items = ",\n".join(f"    {{{{ martsmith.{impl}__{p}('days.date_day') }}}} as {p}" for p in parts)
        (models / f"dates_{impl}.sql").write_text(
            f"with days as ({{{{ martsmith.date_spine('1899-12-25', '2026-01-10') }}}})\n"
            f"select\n    days.date_day,\n{items}\nfrom days\n"
        )
    from martsmith.context.dbt import Dbt

    result = Dbt(load_project(pg_shop)).invoke(["build", "--select", "portable_checks"])
    assert result.success and len(result.nodes) == 4, result
    default, native = _rows(pg_shop, "public", "dedupe_default"), _rows(pg_shop, "public", "dedupe_postgres")
    assert default == native and len(default) > 10
    with Warehouse(load_project(pg_shop)) as wh:
        columns = [
            r[0]
            for r in wh.query(
                "select column_name from information_schema.columns where table_name = 'dedupe_default' "
                "order by ordinal_position"
            )
        ]
        source_columns = [
            r[0]
            for r in wh.query(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'customers' order by ordinal_position"
            )
        ]
    assert columns == source_columns  # no row-number column leaks out
    assert _rows(pg_shop, "public", "dates_default") == _rows(pg_shop, "public", "dates_postgres")
