"""dbt unit tests from real input rows: pick rows that exercise a model's branches, compute the
rows it returns on them, and write both as a `unit_tests:` entry (see generate.py; pipelines/unit_test.py writes it)."""

from martsmith.unittests.expect import Expected, FixtureTable, expected_rows
from martsmith.unittests.fixture import merge_unit_test, render_value, unit_test_entry
from martsmith.unittests.generate import UnitTestResult, plan_unit_test
from martsmith.unittests.pick import Coverage, Picked, PickInput, pick_rows
from martsmith.unittests.shape import Condition, JoinEdge, ModelShape, model_shape

__all__ = [
    "Condition",
    "Coverage",
    "Expected",
    "FixtureTable",
    "JoinEdge",
    "ModelShape",
    "PickInput",
    "Picked",
    "UnitTestResult",
    "expected_rows",
    "merge_unit_test",
    "model_shape",
    "pick_rows",
    "plan_unit_test",
    "render_value",
    "unit_test_entry",
]
