"""The run journal and its recovery, without dbt: a run is simulated with FileTransaction and
RelationGuard on a real DuckDB file, then "killed" (left without commit or rollback)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import pytest

from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import ProjectError
from martsmith.write import FileTransaction, RelationGuard
from martsmith.write.journal import BACKUP_PREFIX, Journal, journal_path, recover_journal
from tests.projects import TABLE_AND_VIEW, duckdb_project


def make_project(root: Path) -> Project:
    return duckdb_project(root, TABLE_AND_VIEW, schema="s")


def tree(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] == "target" or p.name.startswith("w.duckdb"):
            continue
        out[str(rel) + ("/" if p.is_dir() else "")] = b"" if p.is_dir() else p.read_bytes()
    return out


def warehouse(project: Project) -> dict:
    con = duckdb.connect(str(project.duckdb_path))
    try:
        rels = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        out = {}
        for schema, name, kind in rels:
            out[(schema, name, kind)] = sorted(con.execute(f'select * from "{schema}"."{name}"').fetchall())
        return out
    finally:
        con.close()


def test_journal_is_written_before_any_file_changes(tmp_path):
    project = make_project(tmp_path / "p")
    (project.root / "models").mkdir()
    (project.root / "models" / "old.sql").write_bytes(b"select 1\r\n\xff")
    journal = Journal.for_project(project, "martsmith model")
    tx = FileTransaction(project.root, journal)
    before = tree(project.root)
    tx.prepare(["models/old.sql", "models/marts/area/new.sql"])
    assert tree(project.root) == before  # nothing written yet...
    data = json.loads(journal_path(project).read_text())  # ...but the journal is on disk
    assert data["pid"] > 0 and data["command"] == "martsmith model" and data["state"] == "running"
    files = {f["path"]: f["before"] for f in data["files"]}
    assert base64.b64decode(files["models/old.sql"]) == b"select 1\r\n\xff"
    assert files["models/marts/area/new.sql"] is None
    assert data["dirs"] == ["models/marts", "models/marts/area"]
    assert not list(journal_path(project).parent.glob(".*.tmp"))  # written through a renamed temp file


def test_recovery_restores_files_byte_identical_and_removes_created_dirs(tmp_path):
    project = make_project(tmp_path / "p")
    (project.root / "models" / "staging").mkdir(parents=True)
    (project.root / "models" / "staging" / "_src.yml").write_bytes(b"version: 2\n# comment \xe2\x80\x94 kept\n")
    before = tree(project.root)
    tx = FileTransaction(project.root, Journal.for_project(project, "martsmith tests"))
    tx.prepare(["models/staging/_src.yml"])
    tx.write("models/staging/_src.yml", "version: 2\nsources: []\n", overwrite=True)
    tx.write("models/marts/finance/new.sql", "select 2 as b\n")  # not prepared: journaled on the way
    assert tree(project.root) != before
    # The process dies here: no rollback, no commit.
    rec = recover_journal(project)
    assert rec is not None and rec.command == "martsmith tests"
    assert sorted(rec.files) == ["models/marts/finance/new.sql", "models/staging/_src.yml"]
    assert rec.dirs == ["models/marts/finance", "models/marts"]
    assert tree(project.root) == before
    assert not journal_path(project).exists()
    assert recover_journal(project) is None  # done once


def test_recovery_of_a_run_killed_before_writing_changes_nothing(tmp_path):
    project = make_project(tmp_path / "p")
    before = tree(project.root)
    FileTransaction(project.root, Journal.for_project(project)).prepare(["models/x.sql"])
    rec = recover_journal(project)
    assert rec is not None and rec.files == [] and rec.dirs == []
    assert "nothing needed undoing" in rec.summary()
    assert tree(project.root) == before


def _simulated_build(project: Project) -> tuple[Journal, RelationGuard]:
    journal = Journal.for_project(project, "martsmith model")
    guard = RelationGuard(Warehouse(project), [("s", "t"), ("s", "v"), ("s", "new")], journal, started=False)
    return journal, guard


def test_recovery_drops_created_relations_and_restores_replaced_ones(tmp_path):
    project = make_project(tmp_path / "p")
    before = warehouse(project)
    journal, guard = _simulated_build(project)
    guard.dbt_starting()
    con = duckdb.connect(str(project.duckdb_path))  # what dbt does, then the process is killed
    con.execute("create or replace table s.t as select 99 as a")
    con.execute("create or replace view s.v as select 'changed' as b")
    con.execute("create table s.new as select 1 as x")
    con.execute("create table s.new__dbt_tmp as select 1 as x")
    con.execute("create table s.made_by_the_user_since as select 1 as x")  # not the run's: kept
    con.close()
    rec = recover_journal(project)
    assert rec is not None
    assert sorted(rec.dropped) == ["s.new", "s.new__dbt_tmp"]
    assert sorted(rec.restored) == ["s.t", "s.v"]
    after = warehouse(project)
    assert after.pop(("s", "made_by_the_user_since", "BASE TABLE")) == [(1,)]
    assert after == before  # t's rows back, v's definition back, no backup left
    assert "dropped 2 relations" in rec.summary() and "put back 2 relations" in rec.summary()


def test_recovery_before_dbt_ran_only_drops_the_backup(tmp_path):
    project = make_project(tmp_path / "p")
    before = warehouse(project)
    _simulated_build(project)  # backups made, killed before dbt
    names = {n for (_, n, _) in warehouse(project)}
    assert BACKUP_PREFIX + "t" in names
    rec = recover_journal(project)
    assert rec is not None and rec.dropped == ["s." + BACKUP_PREFIX + "t"] and rec.restored == []
    assert warehouse(project) == before


def test_recovery_past_the_commit_point_finishes_the_run(tmp_path):
    project = make_project(tmp_path / "p")
    tx = FileTransaction(project.root, Journal.for_project(project))
    journal, guard = _simulated_build(project)
    tx.journal = journal
    guard.dbt_starting()
    tx.write("models/new.sql", "select 1 as x\n")
    con = duckdb.connect(str(project.duckdb_path))
    con.execute("create or replace table s.t as select 99 as a")
    con.close()
    journal.mark_committed()  # killed right after the commit point
    rec = recover_journal(project)
    assert rec is not None and rec.committed and rec.dropped == ["s." + BACKUP_PREFIX + "t"]
    assert (project.root / "models/new.sql").read_text() == "select 1 as x\n"  # kept
    assert warehouse(project)[("s", "t", "BASE TABLE")] == [(99,)]
    assert rec.summary().startswith("Finished an interrupted commit")


def test_recovery_refuses_a_journal_pointing_outside_the_project(tmp_path):
    project = make_project(tmp_path / "p")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    journal = Journal.for_project(project)
    journal.data["files"] = [{"path": "../victim.txt", "before": None}]
    journal.save()
    with pytest.raises(ProjectError, match="outside the project"):
        recover_journal(project)
    assert victim.read_text() == "keep me"


def test_recovery_replays_only_a_lone_create_view(tmp_path):
    project = make_project(tmp_path / "p")
    journal = Journal.for_project(project)
    journal.data["dbt_started"] = True
    journal.add_backup("s", "v", "view", sql="create view s.v as select 1; drop table s.t")
    journal.save()
    recover_journal(project)
    assert ("s", "t", "BASE TABLE") in warehouse(project)


def test_a_failed_backup_leaves_no_copy_behind(tmp_path):
    project = make_project(tmp_path / "p")
    con = duckdb.connect(str(project.duckdb_path))
    con.execute("create table s.t2 as select 1 as a")
    con.close()
    before = warehouse(project)
    wh = Warehouse(project)
    real = wh.execute

    def execute(sql: str) -> None:
        if f"{BACKUP_PREFIX}t2" in sql and sql.startswith("create"):
            raise RuntimeError("disk full")
        real(sql)

    wh.execute = execute  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        RelationGuard(wh, [("s", "t"), ("s", "t2")], Journal.for_project(project), started=False)
    wh.close()
    assert warehouse(project) == before  # the copy of s.t is dropped again
