"""The issue's acceptance: on `init --sample`, `martsmith tests` over the source nodes writes tests
that all pass dbt, and reports the planted data problems as findings."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.scaffold.sample import planted_problem

pytestmark = pytest.mark.integration

NODES = [f"source:shop.{t}" for t in ("customers", "products", "orders", "order_items", "payments")]

# planted problem -> the test whose failure reports it
DETECTED_BY = {
    "duplicate_customer_rows": ("source:shop.customers", "unique", "id"),
    "late_customer_updates": ("source:shop.customers", "unique", "id"),
    "inconsistent_country_spelling": ("source:shop.customers", "accepted_values", "country"),
    "inconsistent_category_case": ("source:shop.products", "accepted_values", "category"),
    "orphan_orders": ("source:shop.orders", "relationships", "customer_id"),
    "mixed_case_order_status": ("source:shop.orders", "accepted_values", "status"),
    "late_order_status_updates": ("source:shop.orders", "unique", "id"),
    "negative_quantities": ("source:shop.order_items", "martsmith.not_negative", "quantity"),
    "orphan_order_item_products": ("source:shop.order_items", "relationships", "product_id"),
    "payment_amount_whitespace": ("source:shop.payments", "martsmith.expression_is_true", "amount"),
    "orphan_payments": ("source:shop.payments", "relationships", "order_id"),
}
# Missing emails and countries are allowed by the data's meaning: no test, no finding.
NOT_FINDINGS = {"null_customer_emails", "null_customer_countries"}


def test_sources_get_passing_tests_and_every_planted_problem_is_a_finding(sample_project):
    result = CliRunner().invoke(
        main,
        ["tests", *NODES, "--yes", "--format", "json", "--project-dir", str(sample_project)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tests_passed"] > 20 and data["written"]
    found = {(f["node"], f["test"], f["column"]): f for f in data["findings"]}
    import duckdb

    from martsmith.inference.evidence import MIN_ROWS_VALUES

    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    (products,) = con.execute("select count(*) from raw.products").fetchone()
    con.close()
    expected = dict(DETECTED_BY)
    if products < MIN_ROWS_VALUES:
        # Too few rows to claim a closed list of categories: no accepted_values, so no finding.
        where = expected.pop("inconsistent_category_case")
        assert where not in found
    for key, where in expected.items():
        assert where in found, f"planted problem {key} ({planted_problem(key).description}) was not reported"
        assert found[where]["failures"] > 0 and found[where]["examples"]
    for key in NOT_FINDINGS:
        column = planted_problem(key).column
        assert not [f for f in data["findings"] if f["column"] == column and f["test"] == "not_null"]


def test_explain_gives_the_evidence_for_every_test(sample_project):
    result = CliRunner().invoke(
        main,
        ["tests", "source:shop.order_items", "--explain", "--dry-run", "--project-dir", str(sample_project)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    proposed = [i for i, line in enumerate(lines) if line.startswith("  + ")]
    assert proposed
    for i in proposed:
        # each proposed test is followed by its evidence on an indented line
        assert lines[i + 1].startswith("      ") and lines[i + 1].strip(), lines[i : i + 2]
