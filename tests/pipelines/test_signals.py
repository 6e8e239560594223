"""SIGTERM or SIGINT while `martsmith model --llm` waits on the model: one line, exit 143 or 130,
the check worker stopped (no process of the run survives), the project tree and the warehouse as
they were."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from fakes.openai_server import Reply

pytestmark = pytest.mark.integration

CLI = "from martsmith.cli import main; main()"


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose environment holds `marker` (the run and any child of it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:  # a zombie is gone, only not yet reaped
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def start(project: Path, fake, marker: str, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "MARTSMITH_LLM_API_BASE": fake.url,
        "MARTSMITH_LLM_API_KEY": "test",
        "MARTSMITH_SIGNAL_TEST": marker,
    }
    args = [sys.executable, "-c", CLI, "model", "orders per status", "--llm", "openai/fake-model", "--yes", *extra]
    return subprocess.Popen(
        [*args, "--project-dir", str(project)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_request(fake, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not fake.requests:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never asked the model"
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the run's processes")
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_waiting_on_the_model(sample_project, fake_llm, snapshot, signum, code):
    fake_llm.queue(Reply('{"name": "never_used"}', delay=120))
    marker = uuid.uuid4().hex
    before = snapshot(sample_project)
    as_json = signum == signal.SIGTERM  # one of each: the error as one JSON document, and as one line
    proc = start(sample_project, fake_llm, marker, *(["--format", "json"] if as_json else []))
    try:
        wait_for_request(fake_llm, proc)
        assert len(processes_with(marker)) >= 2  # the command and its check worker
        started = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert time.monotonic() - started < 10
    if as_json:
        assert err == "" and json.loads(out) == {
            "error": "Terminated (SIGTERM); nothing was written.",
            "hint": None,
            "exit_code": 143,
            "findings": [],
        }
    else:
        assert out == "" and [line for line in err.splitlines() if not line.startswith("·")] == [
            "Interrupted; nothing was written."
        ]
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []
    assert snapshot(sample_project) == before
