"""Planner fixtures: the catalogs of fixtures/*.json."""

from __future__ import annotations

import pytest
from plan.fixtures.catalogs import (
    load_catalog,  # tests/ is on sys.path (tests/conftest.py)
)


@pytest.fixture(scope="module")
def shop():
    return load_catalog("shop")


@pytest.fixture(scope="module")
def saas():
    return load_catalog("saas")
