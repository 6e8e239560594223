"""kill -9 at the worst moments: the next command puts the project back as it was.

Each test runs a real `martsmith ...` subprocess on a copy of the sample project, stops it at a
named point (MARTSMITH_TEST_PAUSE_AT, a test-only hook in martsmith.write.journal.pause_point), kills
it with SIGKILL, and checks that `martsmith recover` or `martsmith status` restores the tree
(every file outside target/, logs/, dbt_packages/) byte for byte and the warehouse (every
relation, its kind and its row count).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.write.journal import BACKUP_PREFIX

pytestmark = pytest.mark.integration

IGNORED = {"target", "logs", "dbt_packages"}


def tree(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in IGNORED or ".duckdb" in p.name:
            continue
        out[str(rel) + ("/" if p.is_dir() else "")] = b"" if p.is_dir() else p.read_bytes()
    return out


def warehouse(root: Path) -> dict[tuple[str, str], tuple[str, int | None]]:
    con = duckdb.connect(str(root / "shop.duckdb"))
    try:
        rels = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
        return {
            (s, n): (
                t,
                con.execute(f'select count(*) from "{s}"."{n}"').fetchall()[0][0] if t == "BASE TABLE" else None,
            )
            for s, n, t in rels
        }
    finally:
        con.close()


def state(root: Path):
    return tree(root), warehouse(root)


def martsmith(root: Path, *args: str, pause_at: str | None = None, timeout: float = 180) -> subprocess.Popen:
    """Run martsmith in a subprocess; with `pause_at`, wait until it stops there and kill -9 it."""
    marker = root.parent / f"paused-at-{pause_at}"
    env = dict(os.environ)
    if pause_at:
        env.update(MARTSMITH_TEST_PAUSE_AT=pause_at, MARTSMITH_TEST_PAUSE_MARKER=str(marker))
    log = open(root.parent / "martsmith.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "martsmith.cli", *args, "--project-dir", str(root)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    if pause_at is None:
        proc.wait(timeout=timeout)
        assert proc.returncode == 0, (root.parent / "martsmith.log").read_text()
        return proc
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(
                    f"martsmith exited ({proc.returncode}) before reaching {pause_at}:\n"
                    + (root.parent / "martsmith.log").read_text()
                )
            if time.monotonic() > deadline:
                pytest.fail(f"martsmith never reached {pause_at}")
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its forked check worker, if still there
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    return proc


def recover(root: Path):
    result = CliRunner().invoke(main, ["recover", "--project-dir", str(root)])
    assert result.exit_code == 0, result.output
    return result


def journal(root: Path) -> Path:
    return root / "target" / "martsmith_journal.json"


@pytest.fixture(scope="module")
def built_template(sample_project_template, tmp_path_factory) -> Path:
    """The sample project with model m1 built ("number of orders per status"), once."""
    root = tmp_path_factory.mktemp("built") / "shop"
    shutil.copytree(sample_project_template, root, symlinks=True)
    martsmith(root, "model", "number of orders per status", "--name", "m1", "--yes")
    return root


@pytest.fixture
def built_project(built_template, tmp_path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(built_template, root, symlinks=True)
    return root


def test_killed_after_the_first_file_is_written(sample_project):
    before = state(sample_project)
    martsmith(sample_project, "model", "number of orders per status", "--name", "m1", "--yes", pause_at="file-written")
    assert (sample_project / "models/marts/m1.sql").exists() and journal(sample_project).exists()
    result = recover(sample_project)
    assert "Recovered from an interrupted run of `martsmith model` (pid " in result.output
    assert "restored 1 file" in result.output
    assert state(sample_project) == before
    assert not journal(sample_project).exists()
    assert "Nothing to recover" in recover(sample_project).output


def test_killed_during_the_dbt_build_after_the_model_is_built(sample_project):
    before = state(sample_project)
    martsmith(
        sample_project, "model", "number of orders per status", "--name", "m1", "--yes", pause_at="dbt-model-built"
    )
    assert ("main", "m1") in warehouse(sample_project)  # built, its tests not run yet
    # The next command, whatever it is, recovers first.
    result = CliRunner().invoke(main, ["status", "--project-dir", str(sample_project)])
    assert result.exit_code == 0, result.output
    assert "Recovered from an interrupted run of `martsmith model`" in result.stderr
    assert "restored 2 files, dropped 1 relation." in result.stderr
    assert "No martsmith-generated models" in result.stdout
    assert state(sample_project) == before


@pytest.mark.parametrize("stage", ["backup-created", "dbt-model-built"])
def test_killed_while_forcing_a_replacement(built_project, stage):
    sample_project = built_project
    before = state(sample_project)
    martsmith(
        sample_project, "model", "number of payments per method", "--name", "m1", "--force", "--yes", pause_at=stage
    )
    relations = warehouse(sample_project)
    assert ("main", BACKUP_PREFIX + "m1") in relations
    if stage == "dbt-model-built":
        assert relations[("main", "m1")] != before[1][("main", "m1")]  # the new model replaced it
    result = recover(sample_project)
    assert ("put back 1 relation" if stage == "dbt-model-built" else "dropped 1 relation") in result.output
    assert state(sample_project) == before


def test_killed_past_the_commit_point_keeps_the_run(built_project):
    sample_project = built_project
    martsmith(
        sample_project,
        "model",
        "number of payments per method",
        "--name",
        "m1",
        "--force",
        "--yes",
        pause_at="committing",
    )
    after_run = state(sample_project)
    result = recover(sample_project)
    assert "Finished an interrupted commit of `martsmith model`" in result.output
    files, relations = state(sample_project)
    assert files == after_run[0] and "payment" in (sample_project / "models/marts/m1.sql").read_text()
    assert relations == {k: v for k, v in after_run[1].items() if k != ("main", BACKUP_PREFIX + "m1")}


def test_killed_while_tests_run_after_the_yaml_changed(sample_project):
    before = state(sample_project)
    sources_yml = sample_project / "models/staging/shop/_shop__sources.yml"
    martsmith(sample_project, "tests", "source:shop.orders", "--yes", pause_at="file-written")
    assert sources_yml.read_bytes() != before[0]["models/staging/shop/_shop__sources.yml"]
    recover(sample_project)
    assert state(sample_project) == before
