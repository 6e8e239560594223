"""Errors are one readable line and an exit code: a read-only folder or file (exit 7, nothing
lost), an unreadable path (exit 3), and any unexpected exception (exit 1, "internal error")."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.errors import ProjectError, WriteRefused, filesystem_error
from tests.snapshots import tree


@contextlib.contextmanager
def read_only(path: Path):
    """`path` refuses writes for this process: chmod for a normal user; for root (who ignores
    permissions), the immutable attribute."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root on a file system without chattr +i: cannot make a path read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def one_line(result, code: int, *needles: str) -> str:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


# --- unit: the classification of OSError ----------------------------------------------------


def test_writing_into_a_missing_folder_is_a_write_error(tmp_path):
    with pytest.raises(OSError) as info:
        (tmp_path / "nope" / "x.sql").write_text("select 1")
    err = filesystem_error(info.value)
    assert isinstance(err, WriteRefused) and err.exit_code == 7
    assert err.message == f"cannot write {tmp_path / 'nope' / 'x.sql'}: no such file or directory"
    assert "keeps none of its changes" in (err.hint or "")


def test_reading_a_folder_is_a_read_error(tmp_path):
    with pytest.raises(OSError) as info:
        tmp_path.read_text()
    err = filesystem_error(info.value)
    assert isinstance(err, ProjectError) and err.exit_code == 3
    assert err.message == f"cannot read {tmp_path}: is a directory"


@pytest.mark.parametrize(
    "errno_name, reason",
    [
        ("EACCES", "permission denied"),
        ("EPERM", "permission denied"),
        ("ENOSPC", "no space left on device"),
        ("EROFS", "read-only file system"),
    ],
)
def test_permission_and_disk_errors(errno_name, reason):
    import errno

    exc = OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)), "/p/models/marts/x.sql")
    err = filesystem_error(exc, writing=True)
    assert err.message == f"cannot write /p/models/marts/x.sql: {reason}" and err.exit_code == 7
    assert err.hint
    if errno_name in ("ENOSPC", "EROFS"):  # only writes meet these: no need to be told
        assert filesystem_error(exc).exit_code == 7


# --- the CLI ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_read_only_marts_folder(sample_project: Path):
    marts = sample_project / "models" / "marts"
    before = tree(sample_project)
    with read_only(marts):
        result = CliRunner().invoke(
            main, ["model", "number of orders per status", "--yes", "--project-dir", str(sample_project)]
        )
    line = one_line(result, 7, "cannot write", str(marts), "permission denied")
    assert line.startswith("Error: cannot write ")
    assert "writable" in result.output  # the hint
    assert tree(sample_project) == before


@pytest.mark.integration
def test_read_only_sources_yaml(sample_project: Path):
    sources = sample_project / "models/staging/shop/_shop__sources.yml"
    before = tree(sample_project)
    runner = CliRunner()
    with read_only(sources):
        tests = runner.invoke(main, ["tests", "source:shop.orders", "--yes", "--project-dir", str(sample_project)])
        replaced = runner.invoke(
            main, ["sources", "--schema", "raw", "--name", "shop", "--force", "--project-dir", str(sample_project)]
        )
    one_line(tests, 7, f"cannot write {sources}: permission denied")
    one_line(replaced, 7, f"cannot write {sources}: permission denied")
    assert tree(sample_project) == before


@pytest.mark.integration
def test_unexpected_exception_is_one_line_internal_error(sample_project: Path, monkeypatch):
    import martsmith.context.generated

    def boom(ctx):
        raise ValueError("boom\x1b[2J\nsecond line")

    monkeypatch.setattr(martsmith.context.generated, "generated_models", boom)
    result = CliRunner().invoke(main, ["status", "--project-dir", str(sample_project)])
    line = one_line(result, 1, "internal error: ValueError: boom second line")
    assert "\x1b" not in result.output
    assert "rerun with --debug for the traceback" in result.output
    debug = CliRunner().invoke(main, ["--debug", "status", "--project-dir", str(sample_project)])
    assert isinstance(debug.exception, ValueError)  # --debug: the real exception, for the traceback
    assert line


def test_a_properties_file_that_cannot_be_read(tmp_path):
    from martsmith.inference.merge import merge_tests
    from martsmith.spec import TestSpec

    folder = tmp_path / "orders.yml"
    folder.mkdir()  # reading it fails as an unreadable file would
    with pytest.raises(ProjectError) as info:
        merge_tests(folder, "model", "orders", None, [TestSpec(name="unique", column="id")])
    assert info.value.exit_code == 3
    assert info.value.message == f"cannot read {folder}: is a directory"
    (tmp_path / "latin1.yml").write_bytes(b"models:\n  - name: caf\xe9\n")
    with pytest.raises(ProjectError, match="is not UTF-8 text"):
        merge_tests(tmp_path / "latin1.yml", "model", "orders", None, [TestSpec(name="unique", column="id")])
