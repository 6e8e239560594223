"""`martsmith recover` on its own: text and JSON, something or nothing to recover."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.project import load_project
from martsmith.write import FileTransaction
from martsmith.write.journal import Journal


def _interrupted_run(root) -> None:
    """A `martsmith model` that wrote its SQL and died."""
    tx = FileTransaction(root, Journal.for_project(load_project(root), "martsmith model"))
    tx.write("models/marts/half_done.sql", "select 1 as x\n")


def test_recover_json(sample_project):
    _interrupted_run(sample_project)
    result = CliRunner().invoke(main, ["recover", "--format", "json", "--project-dir", str(sample_project)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recovered"] is True and data["command"] == "martsmith model"
    assert data["files"] == ["models/marts/half_done.sql"] and data["dropped"] == []
    assert not (sample_project / "models/marts/half_done.sql").exists()
    again = CliRunner().invoke(main, ["recover", "--format", "json", "--project-dir", str(sample_project)])
    assert json.loads(again.stdout) == {"recovered": False}


def test_recover_text_lists_what_it_did(sample_project):
    _interrupted_run(sample_project)
    result = CliRunner().invoke(main, ["recover", "--project-dir", str(sample_project)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Recovered from an interrupted run of `martsmith model` (pid {os.getpid()}): restored 1 file.",
        "  files: models/marts/half_done.sql",
    ]


@pytest.mark.integration
def test_a_dry_run_recovers_too(sample_project):
    _interrupted_run(sample_project)
    result = CliRunner().invoke(
        main, ["model", "number of orders per status", "--dry-run", "--project-dir", str(sample_project)]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Recovered from an interrupted run of `martsmith model`")
    assert not (sample_project / "models/marts/half_done.sql").exists()
