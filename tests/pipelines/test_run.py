"""The shared run, on its own: timing, the confirmation and the summary."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from martsmith.context.project import Project
from martsmith.errors import WriteRefused
from martsmith.pipelines.run import Run
from tests.projects import duckdb_project


def project(tmp_path: Path) -> Project:
    return duckdb_project(tmp_path, create=False)


def test_timed_adds_up_a_stage_and_counts_a_failure(tmp_path):
    run = Run(project(tmp_path))
    with run.timed("plan"):
        pass
    first = run.seconds["plan"]
    with pytest.raises(ValueError), run.timed("plan"):
        raise ValueError("x")
    assert run.seconds["plan"] >= first and list(run.seconds) == ["plan"]


def test_start_locks_only_a_run_that_writes(tmp_path):
    calls = []

    def get(*, writes: bool = False, recover: bool = True) -> Project:
        calls.append(writes)
        return project(tmp_path)

    with Run.start(get, dry_run=True) as run:
        assert run.checks is None
    with Run.start(get, yes=True):
        pass
    assert calls == [False, True]


def test_approve(tmp_path):
    assert Run(project(tmp_path), dry_run=True).approve("Write?") is False
    assert Run(project(tmp_path), yes=True).approve("Write?") is True
    with pytest.raises(WriteRefused, match="stdin is not a terminal") as err:
        Run(project(tmp_path)).approve("Write?", action="write and build")  # pytest's stdin is no terminal
    assert err.value.hint == "Pass --yes to write and build, or --dry-run to only look."


def _printed(fn) -> str:
    @click.command()
    def cmd() -> None:
        fn()

    return CliRunner().invoke(cmd, []).output


def test_report_as_text_and_json(tmp_path):
    text = _printed(
        lambda: Run(project(tmp_path), dry_run=True).report({"a": 1}, "plan", previews={"m.sql": "select 1\n"})
    )
    assert text == "plan\n\n-- m.sql (not written)\nselect 1\n"
    out = json.loads(_printed(lambda: Run(project(tmp_path), output_format="json").report({"a": 1}, "plan")))
    assert out["a"] == 1 and set(out["seconds"]) == {"total"}
