"""Helpers for the pipelines' tests (pipelines/model.py and the run): snapshots of the project tree and of the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.snapshots import relations, tree


@pytest.fixture
def snapshot():
    def take(root: Path):
        return tree(root), relations(root)

    return take
