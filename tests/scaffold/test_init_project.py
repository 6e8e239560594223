"""`init_project`: the scaffold, dbt on it, refusals and the all-or-nothing promise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.errors import ProjectError, UsageError, WriteRefused
from martsmith.scaffold.init import init_project, project_name
from martsmith.scaffold.package import package_name, package_path

STAGING_ORDERS = """\
with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        id as order_id,
        customer_id,
        lower(status) as status,
        amount as amount_usd,
        updated_at
    from source
    qualify row_number() over (partition by id order by updated_at desc) = 1

)

select * from renamed
"""


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else b"<dir or link>")
        for p in sorted(root.rglob("*"))
    }


def test_package_path_is_the_dbt_package():
    path = package_path()
    assert (path / "dbt_project.yml").is_file()
    assert package_name() == "martsmith"


def test_sample_project_files(sample_project_template: Path):
    root = sample_project_template
    for name in (
        "dbt_project.yml",
        "profiles.yml",
        "packages.yml",
        ".sqlfluff",
        ".gitignore",
        "models/staging/.gitkeep",
        "models/marts/.gitkeep",
        "models/staging/shop/_shop__sources.yml",
        "shop.duckdb",
    ):
        assert (root / name).exists(), name
    config = yaml.safe_load((root / "dbt_project.yml").read_text())
    assert (config["name"], config["profile"], config["model-paths"]) == ("shop", "shop", ["models"])
    assert config["models"] == {"shop": {"staging": {"+materialized": "view"}, "marts": {"+materialized": "table"}}}
    profiles = yaml.safe_load((root / "profiles.yml").read_text())
    assert profiles["shop"]["target"] == "dev"
    assert profiles["shop"]["outputs"]["dev"] == {
        "type": "duckdb",
        "path": "shop.duckdb",
        "schema": "main",
        "threads": 1,
    }
    packages = yaml.safe_load((root / "packages.yml").read_text())
    assert packages == {"packages": [{"local": str(package_path())}]}
    assert (root / "dbt_packages/martsmith/dbt_project.yml").is_file()
    ignored = (root / ".gitignore").read_text().split()
    assert {"target/", "logs/", "dbt_packages/", "*.duckdb*"} <= set(ignored)


def test_sqlfluff_config_lints_a_staging_model(sample_project_template: Path):
    from sqlfluff.core import FluffConfig, Linter

    config = FluffConfig.from_path(str(sample_project_template))
    assert config.get("dialect") == "duckdb"
    assert config.get("templater") == "jinja"
    assert config.get("max_line_length") == 100
    assert config.get("apply_dbt_builtins", ["templater", "jinja"]) is True
    result = Linter(config=config).lint_string(STAGING_ORDERS)
    assert [v.get_info_dict()["description"] for v in result.violations] == []
    bad = Linter(config=config).lint_string("SELECT ID AS Order_Id FROM {{ source('shop', 'orders') }}\n")
    assert {v.rule_code() for v in bad.violations} >= {"CP01"}


def test_dbt_parses_and_builds_the_sample_project(sample_project: Path):
    project = load_project(sample_project, sample_project)
    assert project.duckdb_path == sample_project / "shop.duckdb"
    manifest = Dbt(project).parse()
    assert sorted(s.name for s in manifest.sources.values() if s.source_name == "shop") == [
        "customers",
        "order_items",
        "orders",
        "payments",
        "products",
    ]
    model = sample_project / "models/staging/shop/stg_shop__orders.sql"
    model.write_text(STAGING_ORDERS)
    result = Dbt(project).invoke(["build", "--select", "stg_shop__orders"])
    assert result.success, result.error
    import duckdb

    con = duckdb.connect(str(project.duckdb_path), read_only=False)
    try:
        (kind,) = con.execute(
            "select table_type from information_schema.tables where table_name = 'stg_shop__orders'"
        ).fetchall()[0]
    finally:
        con.close()
    assert kind == "VIEW"  # staging materializes as views


def test_init_without_sample(tmp_path: Path):
    result = init_project(tmp_path / "My Analytics", sample=False)
    assert result.name == "my_analytics"
    assert result.row_counts == {} and result.database is None and result.sources_file is None
    assert not list((tmp_path / "My Analytics").glob("*.duckdb"))
    assert result.files == [
        "dbt_project.yml",
        "profiles.yml",
        "packages.yml",
        ".sqlfluff",
        ".gitignore",
        "models/staging/.gitkeep",
        "models/marts/.gitkeep",
    ]


def test_project_names():
    assert project_name(Path("/x/shop")) == "shop"
    assert project_name(Path("/x/Acme-Analytics v2")) == "acme_analytics_v2"
    assert project_name(Path("/x/42")) == "p_42"


def test_refuses_the_package_name_and_bad_names(tmp_path: Path):
    with pytest.raises(UsageError, match="name of the martsmith dbt package"):
        init_project(tmp_path / "martsmith", sample=False)
    with pytest.raises(UsageError, match="not a valid identifier"):
        init_project(tmp_path / "x", sample=False, name="Bad Name")
    assert not (tmp_path / "martsmith").exists() and not (tmp_path / "x").exists()


def test_refuses_an_existing_project_and_changes_nothing(sample_project: Path):
    before = _snapshot(sample_project)
    with pytest.raises(WriteRefused, match="already holds a dbt project"):
        init_project(sample_project, sample=True, scale=0.1)
    assert _snapshot(sample_project) == before


def test_refuses_to_overwrite_files_in_an_existing_folder(tmp_path: Path):
    (tmp_path / "profiles.yml").write_text("mine: {}\n")
    with pytest.raises(WriteRefused, match="profiles.yml"):
        init_project(tmp_path, sample=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles.yml"]


def test_existing_folder_keeps_its_contents(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "legacy.sql").write_text("select 1 as one")
    init_project(tmp_path, sample=False, name="acme")
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "models/legacy.sql").read_text() == "select 1 as one"
    assert (tmp_path / "dbt_project.yml").is_file()


def _fail_deps(monkeypatch):
    def deps(self):
        raise ProjectError("dbt deps failed: simulated")

    monkeypatch.setattr(Dbt, "deps", deps)


def test_failure_removes_a_new_folder(tmp_path: Path, monkeypatch):
    _fail_deps(monkeypatch)
    with pytest.raises(ProjectError, match="simulated"):
        init_project(tmp_path / "new" / "shop", sample=True, scale=0.1)
    assert not (tmp_path / "new" / "shop").exists()


def test_failure_in_an_existing_folder_removes_only_what_init_created(tmp_path: Path, monkeypatch):
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "legacy.sql").write_text("select 1 as one")
    before = _snapshot(tmp_path)

    def broken_load(con, scale):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr("martsmith.scaffold.init.load_sample", broken_load)
    with pytest.raises(RuntimeError, match="simulated"):
        init_project(tmp_path, sample=True, scale=0.1, name="acme")
    assert _snapshot(tmp_path) == before


def test_profile_path_is_relative_so_copies_are_independent(sample_project: Path, sample_project_template: Path):
    assert os.path.samefile(
        (sample_project / "dbt_packages/martsmith").resolve(),
        (sample_project_template / "dbt_packages/martsmith").resolve(),
    )
    copy = load_project(sample_project, sample_project)
    assert copy.duckdb_path == sample_project / "shop.duckdb"
    assert (sample_project / "shop.duckdb").stat().st_ino != (sample_project_template / "shop.duckdb").stat().st_ino
