"""The project lock: a second martsmith run on the same project waits, then gives up (exit 7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.project import load_project
from martsmith.write.journal import Journal, journal_path, project_lock, recover_if_stale


@pytest.fixture
def held_lock(sample_project):
    """Another process holding the project's lock (through martsmith's own lock, as a run would)."""
    code = textwrap.dedent(f"""
        import time
        from martsmith.context.project import load_project
        from martsmith.write.journal import project_lock
        with project_lock(load_project({str(sample_project)!r}), "martsmith model"):
            print("held", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_second_run_waits_then_refuses(sample_project, held_lock, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LOCK_TIMEOUT", "1")
    result = CliRunner().invoke(
        main, ["model", "number of orders per status", "--yes", "--project-dir", str(sample_project)]
    )
    assert result.exit_code == 7, result.output
    assert f"waiting for another martsmith run on this project (pid {held_lock})…" in result.stderr
    assert (
        f"Error: Another martsmith run on this project (pid {held_lock}, `martsmith model`) still holds martsmith.lock after 1 s."
        in result.stderr
    )
    assert "MARTSMITH_LOCK_TIMEOUT" in result.stderr
    assert not (sample_project / "models" / "marts" / "orders_by_status.sql").exists()


def test_recover_waits_for_the_lock_too(sample_project, held_lock, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LOCK_TIMEOUT", "0.5")
    result = CliRunner().invoke(main, ["recover", "--project-dir", str(sample_project)])
    assert result.exit_code == 7 and "waiting for another martsmith run" in result.stderr


def test_a_live_runs_journal_is_not_recovered(sample_project, held_lock):
    project = load_project(sample_project)
    journal = Journal.for_project(project)  # as if it were the holder's
    journal.add_file(sample_project / "models" / "x.sql", None)
    journal.save()
    assert recover_if_stale(project) is None
    assert journal_path(project).exists()


def test_the_lock_is_reentrant_in_one_process(sample_project):
    project = load_project(sample_project)
    with project_lock(project, "martsmith model"):
        with project_lock(project) as inner:  # e.g. write_and_run inside a command that holds it
            assert inner is None
    result = CliRunner().invoke(main, ["recover", "--project-dir", str(sample_project)])
    assert result.exit_code == 0 and "Nothing to recover" in result.output


def test_bad_timeout_is_a_usage_error(sample_project, monkeypatch):
    monkeypatch.setenv("MARTSMITH_LOCK_TIMEOUT", "soon")
    (sample_project / "target").mkdir(exist_ok=True)
    import filelock

    with filelock.FileLock(str(sample_project / "target" / "martsmith.lock")):
        code = ["recover", "--project-dir", str(sample_project)]
        result = subprocess.run([sys.executable, "-m", "martsmith.cli", *code], capture_output=True, text=True)
    assert result.returncode == 2 and "MARTSMITH_LOCK_TIMEOUT must be a number" in result.stderr


def test_a_forked_child_does_not_keep_a_killed_runs_lock(sample_project, monkeypatch):
    """The check worker is forked while the lock is held: once the run is killed, its orphaned
    child must not keep the lock (else recovery would wait for it)."""
    import os
    import signal

    monkeypatch.setenv("MARTSMITH_LOCK_TIMEOUT", "2")
    code = textwrap.dedent(f"""
        import os, time
        from martsmith.context.project import load_project
        from martsmith.write.journal import project_lock
        with project_lock(load_project({str(sample_project)!r}), "martsmith star"):
            child = os.fork()
            if child == 0:
                time.sleep(30)
                os._exit(0)
            print(child, flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.kill()
        proc.wait()
        os.kill(child, 0)  # the orphan is still alive...
        with project_lock(load_project(sample_project), "martsmith recover"):  # ...yet the lock is free
            pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
