"""Every command, on a broken input: one readable error line and an exit code, never a
traceback; an unexpected exception is `internal error: ...` with exit 1, and `--debug` shows its
traceback instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from martsmith.cli import COMMANDS, main

# Each command with arguments that reach its real work (the project is what is broken).
ARGS: dict[str, list[str]] = {
    "init": ["{tmp}/new"],
    "sources": ["--schema", "raw"],
    "model": ["number of orders per status"],
    "star": ["orders as the fact"],
    "profile": ["orders"],
    "tests": ["orders"],
    "status": [],
    "conventions": [],
    "unit-test": ["orders"],
    "eval": ["{tmp}/cases.yml"],
    "recover": [],
    "review": ["--base", "HEAD"],
}


def test_every_command_is_covered():
    assert set(ARGS) == set(COMMANDS)


def _invoke(tmp_path: Path, name: str, *extra: str):
    (tmp_path / "cases.yml").write_text("cases:\n  - id: a\n    request: number of orders\n    gold: select 1\n")
    args = [a.format(tmp=tmp_path) for a in ARGS[name]]
    if name != "init":
        args += ["--project-dir", str(tmp_path)]
    return CliRunner().invoke(main, [*extra, name, *args])


def _one_error_line(result) -> str:
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("name", sorted(ARGS))
def test_a_broken_dbt_project_is_one_error_line(tmp_path, name):
    (tmp_path / "dbt_project.yml").write_text("name: [broken\n")
    if name == "init":  # init refuses a folder that holds a project: give it a broken template
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / ".sqlfluff").mkdir()
    result = _invoke(tmp_path, name)
    assert result.exit_code not in (0, 1), result.output  # a known error, with its own exit code
    _one_error_line(result)


@pytest.mark.parametrize("name", sorted(ARGS))
def test_an_unexpected_exception_is_an_internal_error_and_debug_shows_it(tmp_path, name, monkeypatch):
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    # Every command reads a dbt project (init the one it has just written).
    monkeypatch.setattr("martsmith.context.project._load_yaml", boom)
    result = _invoke(tmp_path, name)
    assert result.exit_code == 1, result.output
    assert _one_error_line(result) == "Error: internal error: RuntimeError: boom"
    assert "--debug" in result.stderr

    debug = _invoke(tmp_path, name, "--debug")
    assert isinstance(debug.exception, RuntimeError)  # raised through: Click's runner keeps the traceback
