"""Warehouse.read_only(): whatever a check query does inside it does not persist."""

from __future__ import annotations

import duckdb
import pytest

from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import WarehouseError
from tests.projects import TABLE_AND_VIEW, duckdb_project


def make_project(tmp_path) -> Project:
    return duckdb_project(tmp_path, TABLE_AND_VIEW, schema="s")


def test_read_only_discards_ddl_and_dml(tmp_path):
    project = make_project(tmp_path)
    with Warehouse(project) as wh:
        with wh.read_only():
            wh.execute("create table s.scratch as select 1 as x")
            wh.execute("delete from s.t")
            with wh.read_only():  # nested: one transaction
                wh.execute("drop view s.v")
            assert wh.query("select count(*) from s.t") == [(0,)]
        assert ("s", "scratch") not in wh.relations()
        assert ("s", "v") in wh.relations()
        assert wh.query("select count(*) from s.t") == [(5,)]


def test_read_only_reports_a_query_that_commits(tmp_path):
    project = make_project(tmp_path)
    with Warehouse(project) as wh:
        with pytest.raises(WarehouseError, match="ended its transaction"):
            with wh.read_only():
                wh.execute("create table s.scratch as select 1 as x")
                wh.execute("commit")


def test_read_only_leaves_nothing_in_the_file(tmp_path):
    project = make_project(tmp_path)
    with Warehouse(project) as wh, wh.read_only():
        wh.execute("create table s.scratch as select 1 as x")
    con = duckdb.connect(str(project.duckdb_path))  # a fresh connection: not persisted
    try:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'scratch'").fetchall() == [(0,)]
    finally:
        con.close()
