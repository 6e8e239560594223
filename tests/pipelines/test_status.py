"""`martsmith status` lists what martsmith generated, with rows and tests."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration


def test_status_lists_generated_models(sample_project):
    run = lambda *a: CliRunner().invoke(main, [*a, "--project-dir", str(sample_project)], catch_exceptions=False)  # noqa: E731
    empty = run("status")
    assert empty.exit_code == 0 and "No martsmith-generated models" in empty.output
    assert run("model", "number of orders per status", "--name", "per_status", "--yes").exit_code == 0
    assert run("model", "number of payments per method", "--name", "per_method", "--yes", "--no-build").exit_code == 0
    data = json.loads(run("status", "--format", "json").stdout)
    by_name = {m["name"]: m for m in data["models"]}
    assert by_name["per_status"]["rows"] > 0 and by_name["per_status"]["data_tests"] == 4
    assert by_name["per_status"]["request"] == "number of orders per status"
    assert by_name["per_method"]["rows"] is None  # compiled only
    text = run("status").output
    assert "models/marts/per_status.sql" in text and "not built" in text
