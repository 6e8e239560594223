"""Errors through the CLI's one handler: with --format json, every kind is one JSON document on
stdout (error, hint, exit_code, findings) and the exit code of its kind; without it, one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from martsmith.cli import main

KEYS = ["error", "hint", "exit_code", "findings"]
FINDING_KEYS = ["check", "message", "line"]


def run_json(*args: str):
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert "Traceback" not in result.output
    assert result.stderr == ""  # --format json: the error is on stdout, nothing on stderr
    data = json.loads(result.stdout)
    assert list(data) == KEYS
    assert data["exit_code"] == result.exit_code
    for finding in data["findings"]:
        assert list(finding) == FINDING_KEYS
    return result, data


def test_usage_error(tmp_path: Path):
    result, data = run_json("star", "--project-dir", str(tmp_path))
    assert result.exit_code == 2
    assert data == {
        "error": "Give a DESCRIPTION or --from-source SOURCE.",
        "hint": "e.g. martsmith star --from-source shop --dry-run",
        "exit_code": 2,
        "findings": [],
    }


def test_click_usage_error():
    # --format json was written but never parsed: the handler reads it from the arguments.
    result, data = run_json("model")
    assert result.exit_code == 2
    assert data == {
        "error": "Missing argument 'REQUEST'.",
        "hint": "Try 'main model --help' for help.",
        "exit_code": 2,
        "findings": [],
    }


def test_click_usage_error_without_json_keeps_clicks_usage():
    result = CliRunner().invoke(main, ["model"])
    assert result.exit_code == 2
    assert "Usage: main model [OPTIONS] REQUEST" in result.output and "Missing argument 'REQUEST'" in result.output


def test_project_error(tmp_path: Path):
    result, data = run_json("status", "--project-dir", str(tmp_path))
    assert result.exit_code == 3
    assert data == {
        "error": f"{tmp_path} has no dbt_project.yml.",
        "hint": "Pass the folder of a dbt project.",
        "exit_code": 3,
        "findings": [],
    }


def test_project_error_as_text(tmp_path: Path):
    result = CliRunner().invoke(main, ["status", "--project-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == f"Error: {tmp_path} has no dbt_project.yml.\nPass the folder of a dbt project.\n"


def test_plan_error(sample_project: Path):
    result, data = run_json("model", "asdf qwerty zxcv", "--dry-run", "--project-dir", str(sample_project))
    assert result.exit_code == 2
    assert data["error"].startswith("The offline planner could not place 'asdf'")
    assert data["hint"] == "Rephrase with table or column names, describe the column in its YAML, or use --llm MODEL."
    assert [f["check"] for f in data["findings"]] == ["plan", "plan", "plan"]
    assert [f["message"].split(" (closest")[0] for f in data["findings"]] == [
        "cannot place 'asdf'",
        "cannot place 'qwerty'",
        "cannot place 'zxcv'",
    ]
    assert all(f["line"] is None for f in data["findings"])


def test_validation_error(sample_project: Path, monkeypatch):
    from martsmith.pipelines import model as pipeline

    # What a broken renderer would produce: SQL that reads a file. The static checks stop it.
    monkeypatch.setattr(pipeline, "render_sql", lambda spec: "select * from read_csv('/etc/passwd')")
    result, data = run_json("model", "number of orders per status", "--dry-run", "--project-dir", str(sample_project))
    assert result.exit_code == 6
    assert data["error"].startswith("The generated model failed static checks:")
    assert data["hint"] is None
    assert data["findings"] and {f["check"] for f in data["findings"]} == {"safety"}
    assert "function READ_CSV() reads files, the network or the environment" in [f["message"] for f in data["findings"]]


def test_write_refused(sample_project: Path):
    # No --yes, and stdin is not a terminal: nothing is written.
    result, data = run_json("model", "number of orders per status", "--project-dir", str(sample_project))
    assert result.exit_code == 7
    assert data == {
        "error": "Not writing without confirmation: stdin is not a terminal.",
        "hint": "Pass --yes to write and build, or --dry-run to only look.",
        "exit_code": 7,
        "findings": [],
    }
    assert not list((sample_project / "models").rglob("*orders_by_status*"))


@pytest.mark.parametrize("kind", ["ValidationFailed", "WarehouseChanged", "YamlMergeError", "RulesError"])
def test_errors_carry_typed_findings(kind):
    from martsmith import errors
    from martsmith.validate.findings import Finding

    made = {
        "ValidationFailed": lambda: errors.ValidationFailed("x", [Finding("lint", "LT01", 3)]),
        "WarehouseChanged": lambda: errors.WarehouseChanged(["schema raw dropped"]),
        "YamlMergeError": lambda: errors.YamlMergeError(Path("m.yml"), "not valid YAML", 4),
        "RulesError": lambda: errors.RulesError("x is y", "it fits none of the accepted forms"),
    }[kind]()
    assert made.findings and all(isinstance(f, Finding) for f in made.findings)
    assert made.as_dict()["findings"][0]["check"] == made.findings[0].check
