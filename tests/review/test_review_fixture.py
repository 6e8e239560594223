"""`martsmith review --base base` on the fixture repository: one head commit per case, each
with its expected findings, and the PR comment checked against golden Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import martsmith
from golden import assert_golden_tree

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden"
REVENUE = "models/marts/total_revenue_by_customer_country.sql"


def review(root: Path) -> tuple[int, str, dict]:
    """(exit code with --fail-on error, the Markdown, the JSON) of one review against `base`."""
    from martsmith.context.project import load_project
    from martsmith.review.pipeline import review_project
    from martsmith.review.report import as_json, markdown

    result = review_project(load_project(root), base_ref="base")
    return (6 if result.fails("error") else 0), markdown(result), json.loads(json.dumps(as_json(result)))


def rules(data: dict) -> set[tuple[str, str]]:
    return {(f["rule"], f["model"]) for f in data["findings"]}


def model(data: dict, name: str) -> dict:
    return next(m for m in data["models"] if m["name"] == name)


def test_a_clean_regenerated_model_passes_with_no_data_change(review_repo, commit):
    result = martsmith(
        review_repo,
        "model",
        "count of orders per status",
        "--name",
        "order_count_by_status",
        "--force",
        "--yes",
        "--no-build",
    )
    assert result.exit_code == 0, result.output
    commit("regenerate order_count_by_status")
    code, md, data = review(review_repo)
    assert code == 0
    m = model(data, "order_count_by_status")
    assert m["change"] == "modified" and m["provenance"]["status"] == "regenerated"
    assert m["data"]["verdict"] == "no data change"
    assert not [f for f in data["findings"] if f["severity"] == "error"]
    assert_golden_tree(GOLDEN, {"clean_regenerated.md": md}, owns_folder=False)


def test_a_hand_edited_fan_out_join_is_found_on_the_data(review_repo, commit):
    path = review_repo / REVENUE
    sql = path.read_text()
    assert sql.count("{{ martsmith.deduplicate(") == 2
    dedupe = (
        "    {{ martsmith.deduplicate(\n"
        "        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'\n"
        "    ) }}\n"
    )
    # The customers import keeps its duplicates: orders now meet several rows of one customer.
    path.write_text(sql.replace(dedupe, "    select * from {{ source('shop', 'customers') }}\n", 1))
    commit("hand edit: no dedupe of customers")
    code, md, data = review(review_repo)
    assert code == 6
    assert ("MS011", "total_revenue_by_customer_country") in rules(data)
    assert ("MS013", "total_revenue_by_customer_country") in rules(data)
    m = model(data, "total_revenue_by_customer_country")
    assert m["provenance"]["status"] == "hand-edited" and "-    {{ martsmith.deduplicate(" in m["provenance"]["diff"]
    assert m["data"]["rows_changed"] > 0 and m["data"]["changed_columns"].get("total_revenue")
    assert m["data"]["examples_changed"]
    assert_golden_tree(GOLDEN, {"fan_out.md": md}, owns_folder=False)


def test_a_dropped_column_used_downstream_is_an_error_naming_the_child(review_repo, commit):
    path = review_repo / REVENUE
    final = "        total_revenue\n    from aggregated"
    assert final in path.read_text()
    path.write_text(path.read_text().replace(final, "        total_revenue as revenue\n    from aggregated"))
    commit("rename total_revenue")
    code, md, data = review(review_repo)
    assert code == 6
    dropped = [f for f in data["findings"] if f["rule"] == "MS012"]
    assert dropped and "revenue_share" in dropped[0]["message"] and "total_revenue" in dropped[0]["message"]
    assert model(data, "revenue_share")["build"] in ("failed", "skipped")
    assert_golden_tree(GOLDEN, {"dropped_column.md": md}, owns_folder=False)


def test_a_changed_filter_counts_the_changed_rows(review_repo, commit):
    result = martsmith(
        review_repo,
        "model",
        "total revenue by customer country, excluding cancelled orders",
        "--name",
        "total_revenue_by_customer_country",
        "--force",
        "--yes",
        "--no-build",
    )
    assert result.exit_code == 0, result.output
    commit("revenue without cancelled orders")
    code, md, data = review(review_repo)
    m = model(data, "total_revenue_by_customer_country")
    assert m["provenance"]["status"] == "regenerated"
    assert m["data"]["rows_changed"] > 0 and set(m["data"]["changed_columns"]) == {"total_revenue"}
    assert "rows changed in total_revenue" in m["data"]["verdict"]
    assert model(data, "revenue_share")["change"] == "downstream"
    assert code == 0
    assert_golden_tree(GOLDEN, {"changed_filter.md": md}, owns_folder=False)


def test_a_new_model_without_tests_is_a_coverage_warning(review_repo, commit):
    (review_repo / "models/marts/orders_per_day.sql").write_text(
        "select cast(ordered_at as date) as order_date, count(*) as orders\n"
        "from {{ source('shop', 'orders') }}\ngroup by 1\n"
    )
    commit("orders per day")
    code, md, data = review(review_repo)
    assert code == 0  # warnings only
    assert {("MS005", "orders_per_day"), ("MS004", "orders_per_day")} <= rules(data)
    assert model(data, "orders_per_day")["data"]["status"] == "new"
    # The command: the same review, its exit code by --fail-on, the report in a file.
    cli = martsmith(
        review_repo, "review", "--base", "base", "--fail-on", "warn", "--output", str(review_repo / "review.md")
    )
    assert cli.exit_code == 6 and (review_repo / "review.md").read_text() == md
    cli = martsmith(review_repo, "review", "--base", "base", "--format", "json")
    assert cli.exit_code == 0 and json.loads(cli.stdout)["summary"]["added"] == ["orders_per_day"]
    assert_golden_tree(GOLDEN, {"new_untested.md": md}, owns_folder=False)
