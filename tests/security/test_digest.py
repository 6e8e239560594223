"""The warehouse digest guard: a run that changes the warehouse outside what it may create or
replace fails with WarehouseChanged (exit 8), and what it did itself is rolled back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from martsmith.context.warehouse import Warehouse
from martsmith.errors import WarehouseChanged
from martsmith.write.digest import changes, take_digest
from martsmith.write.journal import BACKUP_PREFIX
from tests.snapshots import tree as _tree


def digest_of(con):
    from martsmith.context.warehouse.duckdb import DuckDBWarehouse

    wh = object.__new__(DuckDBWarehouse)  # the DuckDB engine on this in-memory connection
    wh._con = con
    wh._read_only_depth = 0
    return take_digest(wh)


def test_changes_outside_the_allowed_relations_are_named():
    con = duckdb.connect()
    con.execute("create schema raw; create schema keep")
    con.execute("create table raw.orders as select range as id from range(1200)")
    con.execute("create table raw.small as select range as id, 'x' as s from range(3)")
    con.execute("create table keep.big as select range as id from range(20000)")
    con.execute("create view keep.v as select 1 as x")
    con.execute("create table main.m as select 1 as x")
    before = digest_of(con)
    con.execute("insert into raw.orders select * from raw.orders")
    con.execute("update raw.small set s = 'y' where id = 1")  # same rows, other contents
    con.execute("create or replace view keep.v as select 2 as x")
    con.execute("create or replace table main.m as select 2 as x")  # allowed
    con.execute(f"create table main.{BACKUP_PREFIX}m as select 1 as x")  # its backup: allowed
    con.execute("create table main.m__dbt_tmp as select 1 as x")  # dbt's temp of it: allowed
    con.execute("create table main.stray as select 1 as x")
    assert changes(before, digest_of(con), [("main", "m")]) == [
        "keep.v: view definition changed",
        "main.stray created",
        "raw.orders: 1,200 → 2,400 rows",
        "raw.small: contents changed (same 3 rows)",
    ]
    con.execute("drop schema raw cascade")
    assert (
        changes(before, digest_of(con), [("main", "m"), ("main", "stray")])[0]
        == "schema raw dropped (with its 2 relations)"
    )


def test_duplicated_rows_do_not_cancel_out():
    con = duckdb.connect()
    con.execute("create table t (x int); insert into t values (1), (1)")
    before = digest_of(con)
    con.execute("update t set x = 2")
    assert changes(before, digest_of(con)) == ["main.t: contents changed (same 2 rows)"]


def test_big_tables_are_counted_not_hashed():
    con = duckdb.connect()
    con.execute("create table t as select range as x from range(10001)")
    d = digest_of(con)
    assert d.relations[("main", "t")].rows == 10001 and d.relations[("main", "t")].checksum is None


# ---------------------------------------------------------------------------------------------
# Through write_and_run, with real dbt


def _relations(root: Path) -> set[tuple[str, str]]:
    con = duckdb.connect(str(root / "shop.duckdb"))
    try:
        return set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    finally:
        con.close()


@pytest.fixture
def ctx(sample_project):
    from martsmith.context.load import load_context
    from martsmith.context.project import load_project

    return load_context(load_project(sample_project), lambda _m: None)


@pytest.fixture
def allowlist_off(monkeypatch):
    """The digest is the layer *behind* the Jinja allowlist: these tests switch the allowlist
    off to reach it (`test_the_allowlist_stops_the_same_files_first` shows it on)."""
    monkeypatch.setattr("martsmith.write.transaction.refuse_unsafe_jinja", lambda files, root: None)


EVIL_HOOK = {
    "models/marts/evil.sql": "{{ config(materialized='table', post_hook='drop table raw.payments') }}\nselect 1 as x\n"
}
EVIL_COMPILE = {
    "models/marts/evil2.sql": "{% if execute %}{% do run_query('delete from raw.orders where id % 2 = 0') %}{% endif %}\nselect 1 as x\n"
}


@pytest.mark.integration
@pytest.mark.parametrize("files", [EVIL_HOOK, EVIL_COMPILE])
def test_the_allowlist_stops_the_same_files_first(ctx, sample_project, files):
    from martsmith.errors import ValidationFailed
    from martsmith.write import write_and_run

    tree, relations = _tree(sample_project), _relations(sample_project)
    with pytest.raises(ValidationFailed, match="Jinja martsmith did not mean to write"):
        write_and_run(ctx, files, ["build", "--select", "evil"], what="dbt build", guard=[(ctx.project.schema, "evil")])
    assert _tree(sample_project) == tree and _relations(sample_project) == relations


@pytest.mark.integration
def test_a_hook_that_drops_a_source_table_fails_the_build(ctx, sample_project, allowlist_off):
    from martsmith.write import write_and_run

    tree, relations = _tree(sample_project), _relations(sample_project)
    files = EVIL_HOOK
    with pytest.raises(WarehouseChanged) as caught:
        write_and_run(ctx, files, ["build", "--select", "evil"], what="dbt build", guard=[(ctx.project.schema, "evil")])
    assert caught.value.exit_code == 8
    assert caught.value.changes == ["raw.payments dropped"]
    assert str(caught.value).startswith("The warehouse changed outside this run: raw.payments dropped.")
    assert "cannot undo" in str(caught.value)
    assert _tree(sample_project) == tree  # the model's file is gone again
    # Its own relation is dropped too; the foreign damage stays (and was reported).
    assert _relations(sample_project) == relations - {("raw", "payments")}
    assert not (sample_project / "target" / "martsmith_journal.json").exists()


@pytest.mark.integration
def test_a_compile_that_deletes_rows_fails_without_a_guard(ctx, sample_project, allowlist_off):
    from martsmith.write import write_and_run

    tree = _tree(sample_project)
    with Warehouse(ctx.project) as wh:
        (orders,) = wh.query("select count(*) from raw.orders")[0]
    files = EVIL_COMPILE
    with pytest.raises(WarehouseChanged, match=r"raw\.orders: [\d,]+ → [\d,]+ rows") as caught:
        write_and_run(ctx, files, ["compile", "--select", "evil2"], what="dbt compile")
    assert f"raw.orders: {orders:,} → " in caught.value.changes[0]
    assert _tree(sample_project) == tree


@pytest.mark.integration
def test_a_clean_build_passes_the_guard(ctx, sample_project):
    from martsmith.write import write_and_run

    files = {"models/marts/fine.sql": "select count(*) as n from {{ source('shop', 'orders') }}\n"}
    write_and_run(ctx, files, ["build", "--select", "fine"], what="dbt build", guard=[(ctx.project.schema, "fine")])
    assert (ctx.project.schema, "fine") in _relations(sample_project)
    assert not (sample_project / "target" / "martsmith_journal.json").exists()
    assert not any(n.startswith(BACKUP_PREFIX) for _, n in _relations(sample_project))
