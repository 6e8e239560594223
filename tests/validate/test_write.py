from pathlib import Path

import pytest

from martsmith.errors import WriteRefused
from martsmith.write import FileTransaction


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
