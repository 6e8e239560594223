"""`martsmith init` and `martsmith sources` through Click: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_main_help_lists_the_scaffold_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "init" in result.stdout and "sources" in result.stdout


@pytest.mark.parametrize("command", ["init", "sources"])
def test_scaffold_commands_have_help_with_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.stdout
    assert f"martsmith {command}" in result.stdout


def test_init_json(runner, tmp_path: Path):
    target = tmp_path / "shop"
    result = runner.invoke(main, ["init", str(target), "--sample", "--scale", "0.1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["name"] == "shop"
    assert doc["root"] == str(target)
    assert doc["sources_file"] == "models/staging/shop/_shop__sources.yml"
    assert set(doc["tables"]) == {"customers", "products", "orders", "order_items", "payments"}
    assert doc["tables"]["products"] == 20
    assert "dbt_project.yml" in doc["files"]
    assert result.stderr == ""  # --format json: no progress lines

    again = runner.invoke(main, ["init", str(target), "--sample"])
    assert again.exit_code == 7
    assert "already holds a dbt project" in again.stderr
    assert again.stdout == ""


def test_init_text(runner, tmp_path: Path):
    result = runner.invoke(main, ["init", str(tmp_path / "acme"), "--no-sample"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Created dbt project 'acme' in {tmp_path / 'acme'}"
    assert "  models/marts/.gitkeep" in result.stdout.splitlines()
    assert "· Installing the martsmith package" in result.stderr


def test_init_rejects_bad_options(runner, tmp_path: Path):
    result = runner.invoke(main, ["init", str(tmp_path / "x"), "--sample", "--scale", "0"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["init", str(tmp_path / "x"), "--scale", "2"])
    assert result.exit_code == 2
    assert "Error: --scale sizes the sample data: use it with --sample." in result.stderr
    result = runner.invoke(main, ["init", str(tmp_path / "x"), "--name", "Not OK"])
    assert result.exit_code == 2
    assert "Error: project name 'Not OK' is not a valid identifier" in result.stderr
    assert not (tmp_path / "x").exists()


def test_sources(runner, sample_project: Path):
    args = ["sources", "--schema", "raw", "--name", "shop", "--project-dir", str(sample_project)]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 7
    assert refused.stderr.splitlines()[-2:] == [
        "Error: models/staging/shop/_shop__sources.yml already exists.",
        "Pass --force to replace it, or --name to declare the schema as another source.",
    ]

    result = runner.invoke(main, [*args, "--force"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Wrote models/staging/shop/_shop__sources.yml: source 'shop' (schema raw), 5 tables"
    assert lines[1].split() == ["customers", "8", "columns", f"{_rows(sample_project, 'customers'):,}", "rows"]

    result = runner.invoke(
        main,
        ["sources", "--schema", "raw", "--table", "payments", "--format", "json", "--project-dir", str(sample_project)],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "raw" and doc["schema"] == "raw"
    assert doc["tables"] == [{"name": "payments", "columns": 5, "rows": _rows(sample_project, "payments")}]
    written = yaml.safe_load((sample_project / "models/staging/raw/_raw__sources.yml").read_text())
    assert written["sources"][0]["tables"][0]["name"] == "payments"


def test_sources_unknown_schema(runner, sample_project: Path):
    result = runner.invoke(main, ["sources", "--schema", "rawdata", "--project-dir", str(sample_project)])
    assert result.exit_code == 2
    assert "Error: The warehouse shop.duckdb has no schema 'rawdata'. Did you mean 'raw'?" in result.stderr
    assert "Schemas that exist: main, raw." in result.stderr


def test_sources_outside_a_project(runner, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["sources", "--schema", "raw"])
    assert result.exit_code == 3
    assert "No dbt project found" in result.stderr


def _rows(root: Path, table: str) -> int:
    import duckdb

    con = duckdb.connect(str(root / "shop.duckdb"))
    try:
        return con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
    finally:
        con.close()
