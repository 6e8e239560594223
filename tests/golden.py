"""The one golden-file helper: rendered text against files checked into the repository.

`assert_golden_tree(folder, {relative path: text})` compares every file byte for byte and fails
on a missing or a stale one. With MARTSMITH_UPDATE_GOLDEN=1 it rewrites the folder instead (after
an intended change; review the diff, then commit it). A golden file is never written silently:
a missing one fails the test even as it is written, so that it gets checked in.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

UPDATE = os.environ.get("MARTSMITH_UPDATE_GOLDEN") == "1"


def assert_golden_tree(folder: Path, files: dict[str, str], *, owns_folder: bool = True) -> None:
    """`files` are exactly the golden files under `folder` (when `owns_folder`), byte for byte."""
    if UPDATE and owns_folder:
        shutil.rmtree(folder, ignore_errors=True)
    missing, differ = [], []
    for rel, text in sorted(files.items()):
        path = folder / rel
        if UPDATE or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            missing += [] if UPDATE else [rel]
        elif path.read_text() != text:
            differ.append(rel)
    assert not differ, f"differ from their golden files (MARTSMITH_UPDATE_GOLDEN=1 rewrites them): {', '.join(differ)}"
    if missing:
        pytest.fail(f"golden files were missing and have been written; check them in: {', '.join(missing)}")
    if owns_folder:
        present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        assert present == sorted(files), "golden files without a rendered file: rerun with MARTSMITH_UPDATE_GOLDEN=1"
