"""`martsmith tests` end to end on the sample shop project (real dbt, real DuckDB)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.dbt import DbtResult, NodeResult
from martsmith.errors import ValidationFailed
from martsmith.inference.suite import TestsPlan
from martsmith.pipelines.run import Run
from martsmith.pipelines.tests import apply_tests
from tests.projects import duckdb_project

SOURCES_YML = Path("models/staging/shop/_shop__sources.yml")


def run(root: Path, *args: str):
    return CliRunner().invoke(main, ["tests", *args, "--project-dir", str(root)], catch_exceptions=False)


@pytest.mark.integration
def test_orders_tests_are_written_pass_dbt_and_planted_problems_are_findings(sample_project):
    before = (sample_project / SOURCES_YML).read_text()
    result = run(sample_project, "source:shop.orders", "--yes")
    assert result.exit_code == 0, result.output
    out = result.output
    # the planted problems, with example keys
    assert "orders point to no customer in source:shop.customers (ids: 17" in out
    assert "id is not unique:" in out  # late-arriving status updates
    assert "have a status other than cancelled, completed, placed, returned, shipped (ids: 7" in out
    assert "dbt test:" in out and "passed" in out
    after = (sample_project / SOURCES_YML).read_text()
    assert after.startswith(before.split("      - name: orders")[0])  # everything before orders untouched
    assert "martsmith.not_empty" in after and "data_tests:" in after
    # a second run finds everything already there: nothing written, same bytes
    again = run(sample_project, "source:shop.orders", "--yes")
    assert again.exit_code == 0, again.output
    assert "Nothing written." in again.output
    assert (sample_project / SOURCES_YML).read_text() == after


@pytest.mark.integration
def test_json_dry_run_and_guards(sample_project):
    before = (sample_project / SOURCES_YML).read_text()
    result = run(
        sample_project,
        "source:shop.payments",
        "source:shop.order_items",
        "--dry-run",
        "--format",
        "json",
        "--rules",
        "method is one of credit_card, bank_transfer, gift_card, coupon",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    messages = [f["message"] for f in data["findings"]]
    assert any(m.startswith("3 payments point to no order") for m in messages), messages
    assert any("have spaces around amount" in m for m in messages), messages
    assert any("have a negative quantity (ids:" in m for m in messages), messages
    assert data["files"] == [str(SOURCES_YML)] and data["written"] is False
    assert any(t["reason"].startswith("rule:") for t in data["tests"])
    assert "+              - not_null" in data["diff"]
    assert (sample_project / SOURCES_YML).read_text() == before  # --dry-run wrote nothing
    # not in a terminal and no --yes: refused, nothing written
    refused = run(sample_project, "source:shop.payments")
    assert refused.exit_code == 7 and "--yes" in refused.output
    assert (sample_project / SOURCES_YML).read_text() == before
    unknown = run(sample_project, "source:shop.orderz", "--yes")
    assert unknown.exit_code == 2 and "Did you mean source:shop.orders" in unknown.output


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["tests", "--help"])
    assert result.exit_code == 0 and "martsmith tests source:shop.orders --yes" in result.output


def test_a_new_test_failing_in_dbt_rolls_the_yaml_back(tmp_path):
    yml = tmp_path / "models" / "m.yml"
    yml.parent.mkdir()
    yml.write_text("models:\n  - name: m\n")
    failing = NodeResult("test.p.unique_m_id", "unique_m_id", "test", "fail", "Got 2 results")
    dbt = SimpleNamespace(
        parse=lambda: None,  # no manifest: the test run below starts without one
        invoke=lambda args, manifest=None: DbtResult(success=False, nodes=[failing], raw=object()),
    )
    # write_and_run guards the warehouse around dbt: the project needs a (here empty) DuckDB file.

    project = duckdb_project(tmp_path)
    ctx = SimpleNamespace(project=project, manifest=SimpleNamespace(nodes={}), dbt=dbt)
    plan = TestsPlan(root=tmp_path, files={yml: ("models:\n  - name: m\n", "models:\n  - name: m\n    columns: []\n")})
    with pytest.raises(ValidationFailed, match="dbt test of the new tests failed; nothing was kept"):
        apply_tests(plan, Run(project, ctx=ctx))
    assert yml.read_text() == "models:\n  - name: m\n"


@pytest.mark.integration
def test_include_failing_writes_warnings_and_empty_table_writes_nothing(sample_project):
    import duckdb

    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    con.execute("create table raw.refunds (id integer, amount double)")
    con.close()
    yml = sample_project / SOURCES_YML
    yml.write_text(yml.read_text().replace("    tables:\n", "    tables:\n      - name: refunds  # empty so far\n", 1))
    before = yml.read_text()
    empty = run(sample_project, "source:shop.refunds", "--yes")
    assert empty.exit_code == 0, empty.output
    assert "no tests inferred: the table is empty" in empty.output and "Nothing written." in empty.output
    assert yml.read_text() == before

    result = run(sample_project, "source:shop.order_items", "--yes", "--include-failing", "--explain")
    assert result.exit_code == 0, result.output
    assert "have a negative quantity (ids:" in result.output and "(written as warn)" in result.output
    assert "FAILS today" in result.output  # --explain shows why the warning is there
    assert "warned" in result.output.splitlines()[-1]
    assert "severity: warn" in yml.read_text()
    assert "- name: refunds  # empty so far" in yml.read_text()
