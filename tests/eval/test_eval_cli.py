"""`martsmith eval` end to end on the sample shop: pass, wrong, refused, and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from martsmith.cli import main
from tests.snapshots import relations as _relations
from tests.snapshots import tree as _tree

CASES = """
description: a few shop questions
cases:
  - id: per_status
    shape: aggregate
    request: number of orders per status
    gold: |
      select status, count(*) from (
        select * from raw.orders qualify row_number() over (partition by id order by updated_at desc) = 1
      ) group by 1
  - id: wrong_on_purpose
    request: number of orders per status
    gold: select status, count(*) from raw.orders where status <> 'cancelled' group by 1
  - id: unknown_word
    request: number of orders per flibbertigibbet
    gold_rows: [[1]]
"""


def test_eval_reports_each_case_and_changes_nothing(sample_project: Path, tmp_path: Path):
    cases = tmp_path / "cases.yml"
    cases.write_text(CASES)
    tree, relations = _tree(sample_project), _relations(sample_project)
    result = CliRunner().invoke(main, ["eval", str(cases), "--format", "json", "--project-dir", str(sample_project)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    status = {r["id"]: r["status"] for r in report["results"]}
    assert status == {"per_status": "pass", "wrong_on_purpose": "wrong", "unknown_word": "refused"}
    assert (report["passed"], report["wrong"], report["refused"], report["errors"]) == (1, 1, 1, 0)
    assert report["accuracy"] == round(1 / 3, 4)
    wrong = next(r for r in report["results"] if r["id"] == "wrong_on_purpose")
    assert wrong["diff"]["only_model"] and wrong["plan"]
    assert "flibbertigibbet" in next(r for r in report["results"] if r["id"] == "unknown_word")["message"]
    assert _tree(sample_project) == tree
    assert _relations(sample_project) == relations


def test_text_report_and_a_bad_cases_file(sample_project: Path, tmp_path: Path):
    cases = tmp_path / "cases.yml"
    cases.write_text(CASES)
    result = CliRunner().invoke(
        main, ["eval", str(cases), "--case", "per_status", "--project-dir", str(sample_project)]
    )
    assert result.exit_code == 0, result.output
    assert "pass    per_status" in result.output and "accuracy 1/1 (100%)" in result.output
    bad = tmp_path / "bad.yml"
    bad.write_text("cases:\n  - id: x\n    request: y\n")
    failed = CliRunner().invoke(main, ["eval", str(bad), "--project-dir", str(sample_project)])
    assert failed.exit_code == 2
    assert "give exactly one of gold (SQL) or gold_rows" in failed.output
    missing = CliRunner().invoke(main, ["eval", str(cases), "--case", "nope", "--project-dir", str(sample_project)])
    assert missing.exit_code == 2 and "No case nope" in missing.output
