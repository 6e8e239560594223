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
