"""The docstring examples of the unittests package run."""

from __future__ import annotations

import doctest

import pytest

from martsmith.unittests import expect, fixture, shape


@pytest.mark.parametrize("module", [shape, expect, fixture], ids=lambda m: m.__name__)
def test_doctests(module):
    assert doctest.testmod(module).failed == 0
