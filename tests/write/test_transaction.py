from pathlib import Path

import pytest

from martsmith.errors import WriteRefused
from martsmith.write import FileTransaction
from tests.projects import duckdb_project


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} | {
        str(p.relative_to(root)) + "/": b"" for p in root.rglob("*") if p.is_dir()
    }


def test_rollback_restores_tree_byte_for_byte(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "keep.sql").write_text("select 1 as a\n")
    before = snapshot(tmp_path)
    tx = FileTransaction(tmp_path)
    tx.write("models/keep.sql", "changed", overwrite=True)
    tx.write("models/marts/finance/new.sql", "select 2 as b\n")
    assert (tmp_path / "models/marts/finance/new.sql").exists()
    tx.rollback()
    assert snapshot(tmp_path) == before


def test_refuses_existing_without_overwrite(tmp_path):
    (tmp_path / "a.sql").write_text("x")
    with pytest.raises(WriteRefused, match="already exists"):
        FileTransaction(tmp_path).write("a.sql", "y")
    assert (tmp_path / "a.sql").read_text() == "x"


def test_refuses_paths_outside_project(tmp_path):
    with pytest.raises(WriteRefused, match="outside"):
        FileTransaction(tmp_path / "p").write("../evil.sql", "y")


def test_relation_guard_restores_replaced_relations_and_drops_new_ones(tmp_path):
    import duckdb

    from martsmith.context.warehouse import Warehouse
    from martsmith.write import RelationGuard

    project = duckdb_project(
        tmp_path, "create schema s; create table s.t as select 1 as a; create view s.v as select 2 as b", schema="s"
    )
    db = project.duckdb_path
    guard = RelationGuard(Warehouse(project), [("s", "t"), ("s", "v"), ("s", "new")])
    con = duckdb.connect(str(db))
    con.execute("create or replace table s.t as select 99 as a")
    con.execute("create or replace view s.v as select 'changed' as b")
    con.execute("create table s.new as select 1 as x")
    con.close()
    guard.rollback()
    con = duckdb.connect(str(db))
    try:
        assert con.execute("select a from s.t").fetchall() == [(1,)]
        assert con.execute("select b from s.v").fetchall() == [(2,)]
        names = {
            r[0]
            for r in con.execute("select table_name from information_schema.tables where table_schema = 's'").fetchall()
        }
        assert names == {"t", "v"}  # the new table and the backup are gone
    finally:
        con.close()
