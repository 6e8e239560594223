"""Execution comparison: what counts as the same answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from martsmith.eval.compare import compare, row_diff


@pytest.mark.parametrize(
    "gold, model",
    [
        ([(1, "a"), (2, "b")], [(2, "b"), (1, "a")]),  # order ignored
        ([("a", 3)], [("key", "a", 3.0)]),  # extra columns, names ignored
        ([(Decimal("1.005"),)], [(1.0,)]),  # numbers within 0.01
        ([(dt.date(2024, 1, 1), 5)], [(dt.datetime(2024, 1, 1), 5)]),  # a date is its midnight
        ([(True,)], [(1,)]),  # booleans are 0/1
        ([(None, 1)], [(1, None)]),  # nulls match nulls
        ([(1, 1), (1, 2)], [(1, 2), (1, 1)]),  # duplicate values in a column
    ],
)
def test_same_answer(gold, model):
    assert compare(gold, model).ok


@pytest.mark.parametrize(
    "gold, model, why",
    [
        ([(1,), (2,)], [(1,)], "1 rows where the gold has 2"),
        ([("a",)], [("b",)], "matches no column"),
        ([(1.0,)], [(1.1,)], "matches no column"),
        ([(dt.datetime(2024, 1, 1, 12, 0),)], [(dt.date(2024, 1, 1),)], "matches no column"),
        # each column has a match, but the rows pair the values differently
        ([(1, "a"), (2, "b")], [(1, "b"), (2, "a")], "not together as rows"),
    ],
)
def test_different_answer(gold, model, why):
    result = compare(gold, model)
    assert not result.ok and why in result.why


def test_columns_are_assigned_once():
    # two gold columns with the same values need two model columns
    assert not compare([(1, 1)], [(1,)]).ok
    assert compare([(1, 1)], [(1, 1)]).ok


def test_row_diff_names_rows_on_each_side():
    diff = row_diff([(1,), (2,)], [(2,), (3,)])
    assert diff == {"only_gold": [[1.0]], "only_model": [[3.0]]}
