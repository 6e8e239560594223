"""The context cache (context/cache.py): fresh only while nothing a dbt parse or the catalog reads
has changed. No dbt here: fingerprints of files, stamps of a DuckDB file, the catalog's round trip."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import duckdb
import pytest
from projects import duckdb_project

from martsmith.context import cache
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table


def _project(root: Path):
    p = duckdb_project(root, "create schema s; create table s.t as select 1 as a", schema="s")
    (root / "dbt_project.yml").write_text("name: p\nprofile: p\nconfig-version: 2\n")
    (root / "profiles.yml").write_text("p:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: w.duckdb}\n")
    (root / "models" / "staging").mkdir(parents=True)
    (root / "models" / "staging" / "m.sql").write_text("select 1 as a\n")
    (root / "models" / "staging" / "m.yml").write_text("version: 2\nmodels:\n  - name: m\n    description: One.\n")
    (root / "macros").mkdir()
    (root / "macros" / "x.sql").write_text("{% macro x() %}{{ env_var('MS_TEST_VAR', 'a') }}{% endmacro %}\n")
    return p


def _rewrite_keeping_size_and_mtime(path: Path, text: str) -> None:
    """An edit that neither size nor mtime show: only the content can tell."""
    st = path.stat()
    assert len(text.encode()) == st.st_size
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize(
    "relpath, old, new",
    [
        ("models/staging/m.sql", "select 1 as a", "select 2 as a"),  # a model's SQL
        ("models/staging/m.yml", "One.", "Two."),  # a model's YAML
        ("macros/x.sql", "'a'", "'b'"),  # a macro
        ("dbt_project.yml", "name: p", "name: q"),  # the project file
    ],
)
def test_an_edit_of_a_parse_input_makes_the_manifest_stale(tmp_path, relpath, old, new):
    p = _project(tmp_path)
    before = cache.project_fingerprint(p)
    path = tmp_path / relpath
    _rewrite_keeping_size_and_mtime(path, path.read_text().replace(old, new))
    assert before is not None and cache.project_fingerprint(p) != before


def test_new_and_removed_files_make_it_stale(tmp_path):
    p = _project(tmp_path)
    before = cache.project_fingerprint(p)
    (tmp_path / "models" / "staging" / "n.sql").write_text("select 1 as b\n")
    added = cache.project_fingerprint(p)
    (tmp_path / "models" / "staging" / "n.sql").unlink()
    assert added != before and cache.project_fingerprint(p) == before


def test_files_dbt_does_not_parse_leave_it_fresh(tmp_path):
    p = _project(tmp_path)
    before = cache.project_fingerprint(p)
    for folder in ("target", "logs", "notes"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "x.json").write_text("{}")
    assert cache.project_fingerprint(p) == before


def test_an_env_var_the_project_reads_is_part_of_it(tmp_path, monkeypatch):
    p = _project(tmp_path)
    monkeypatch.delenv("MS_TEST_VAR", raising=False)
    before = cache.project_fingerprint(p)
    monkeypatch.setenv("MS_TEST_VAR", "b")
    assert cache.project_fingerprint(p) != before
    monkeypatch.setenv("MS_UNRELATED_VAR", "b")  # named nowhere: no effect
    with_var = cache.project_fingerprint(p)
    monkeypatch.delenv("MS_UNRELATED_VAR")
    assert cache.project_fingerprint(p) == with_var


def test_installed_packages_are_part_of_it(tmp_path):
    p = _project(tmp_path / "host")
    package = tmp_path / "pkg"
    (package / "macros").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: pkg\nconfig-version: 2\nmacro-paths: [macros]\n")
    (package / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    (package / "notes.txt").write_text("not parsed")
    (tmp_path / "host" / "dbt_packages").mkdir()
    (tmp_path / "host" / "dbt_packages" / "pkg").symlink_to(package)  # as `dbt deps` installs local:
    before = cache.project_fingerprint(p)
    (package / "notes.txt").write_text("still not parsed")
    assert cache.project_fingerprint(p) == before
    (package / "macros" / "m.sql").write_text("{% macro m() %}2{% endmacro %}\n")
    assert cache.project_fingerprint(p) != before


def test_a_templated_resource_path_is_never_cached(tmp_path):
    p = _project(tmp_path)
    (tmp_path / "dbt_project.yml").write_text("name: p\nmodel-paths: [\"{{ env_var('X') }}\"]\n")
    assert cache.project_fingerprint(p) is None


def _age(path: Path, seconds: float = 10) -> None:
    old = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(old, old))


def test_a_write_to_the_warehouse_changes_its_stamp(tmp_path):
    p = _project(tmp_path)
    _age(p.duckdb_path)
    before = cache.warehouse_stamp(p)
    assert before is not None and before == cache.warehouse_stamp(p)
    con = duckdb.connect(str(p.duckdb_path))
    con.execute("insert into s.t values (2)")
    con.close()
    time.sleep(cache.RACY_SECONDS * 1.5)  # past the racy window, so the stamp is trusted again
    after = cache.warehouse_stamp(p)
    assert after is not None and after != before


def test_a_racy_stamp_is_not_trusted(tmp_path):
    p = _project(tmp_path)
    os.utime(p.duckdb_path)  # changed just now: another change in the same tick would look the same
    assert cache.warehouse_stamp(p) is None


def _catalog() -> Catalog:
    orders = Table(
        "source",
        "orders",
        "raw",
        "orders",
        source_name="shop",
        unique_id="source.p.shop.orders",
        columns=[
            Column("id", "INTEGER", "Key.", 0, 10, None, ["unique"]),
            Column("status", "VARCHAR", "", 0, 2, ["open", "shipped"]),
        ],
        row_count=10,
        primary_key="id",
        primary_key_unique=True,
    )
    customers = Table(
        "model", "customers", "main", "customers", unique_id="model.p.customers", generated_aggregate=True
    )
    return Catalog(
        tables=[orders, customers],
        foreign_keys=[ForeignKey("source:shop.orders", "customer_id", "customers", "id")],
        undeclared=[("raw", "extra")],
        ancestors={"customers": {"source:shop.orders"}, "source:shop.orders": set()},
    )


def test_the_catalog_comes_back_as_it_was_kept(tmp_path):
    p = _project(tmp_path)
    kept = cache.ContextCache()
    kept.keep_manifest("f1", {"nodes": {}, "sources": {}, "macros": {}, "unit_tests": {}})
    _age(p.duckdb_path)
    stamp = cache.warehouse_stamp(p)
    assert stamp is not None
    kept.keep_catalog(stamp, _catalog(), profile=True)
    cache.write_cache(p, kept)
    again = cache.read_cache(p)
    catalog = again.fresh_catalog("f1", stamp, profile=True)
    assert catalog is not None and dataclasses.asdict(catalog) == dataclasses.asdict(_catalog())
    assert again.fresh_catalog("f1", stamp, profile=False) is None  # a catalog without statistics is another one
    assert again.fresh_catalog("f2", stamp, profile=True) is None  # kept under another manifest
    assert again.fresh_catalog("f1", [*stamp[:1], None, None], profile=True) is None


def test_a_cache_that_cannot_be_read_is_an_empty_one(tmp_path):
    p = _project(tmp_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / cache.CACHE_FILE).write_text("{not json")
    assert cache.read_cache(p).fresh_manifest("anything") is None
