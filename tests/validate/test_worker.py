"""The check worker never outlives the command that forked it, even when that command is killed
with kill -9: it would hold the project lock the fork copied, and the next run would wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

CODE = """
import sys, time
from pathlib import Path
from martsmith.validate.worker import CheckWorker
worker = CheckWorker(Path("."))
print(worker._proc.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def test_the_worker_exits_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", CODE], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20  # it warms up (imports sqlfluff) before it reads the pipe
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the check worker outlived its killed parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
