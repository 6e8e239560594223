"""martsmith.deduplicate's default version (Spark's, and that of any adapter without its own) in a
dbt unit test. It reads the input's columns from the warehouse; in a unit test the input is the
CTE of the given rows, which no warehouse holds, so it reads them from the test's
`overrides: vars: martsmith_fixture_columns`, which `martsmith unit-test` writes. Run by real dbt
on the DuckDB sample, calling the default version directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.unittests.fixture import merge_unit_test, unit_test_entry

pytestmark = pytest.mark.integration

MODEL = """\
with customers as (
    {{ martsmith.default__deduplicate(
        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'
    ) }}
)

select id, country from customers
"""
COLUMNS = ["id", "first_name", "last_name", "email", "country", "city", "created_at", "updated_at"]
CTE = "__dbt__cte__shop__customers"  # dbt's name for the CTE of a source's given rows
GIVEN = [
    {"id": 1, "country": "France", "updated_at": "2024-01-01 00:00:00"},
    {"id": 1, "country": "Spain", "updated_at": "2024-02-01 00:00:00"},  # the latest: kept
    {"id": 2, "country": None, "updated_at": "2024-01-01 00:00:00"},
]


def _unit_test(root: Path, expect: list[dict], fixture_columns: dict[str, list[str]] | None):
    entry = unit_test_entry(
        "latest_country__t",
        "latest_country",
        [("source('shop', 'customers')", GIVEN)],
        expect,
        description="the latest row of each customer",
        fixture_columns=fixture_columns,
    )
    yml = root / "models" / "marts" / "latest_country.yml"
    yml.write_text(merge_unit_test(yml, entry))
    return Dbt(load_project(root)).invoke(["test", "--select", "latest_country,test_type:unit"])


@pytest.fixture
def shop(sample_project: Path) -> Path:
    (sample_project / "models" / "marts" / "latest_country.sql").write_text(MODEL)
    built = Dbt(load_project(sample_project)).invoke(["run", "--select", "latest_country"])
    assert built.success, built.error  # outside a unit test it reads the relation's columns
    return sample_project


def test_the_default_dedupe_runs_on_the_given_rows_with_their_columns_from_the_test(shop: Path):
    res = _unit_test(shop, [{"id": 1, "country": "Spain"}, {"id": 2, "country": None}], {CTE: COLUMNS})
    assert res.success, res.error
    assert [(n.name, n.status) for n in res.nodes] == [("latest_country__t", "pass")]
    wrong = _unit_test(shop, [{"id": 1, "country": "France"}, {"id": 2, "country": None}], {CTE: COLUMNS})
    assert [(n.name, n.status) for n in wrong.nodes] == [("latest_country__t", "fail")]


def test_without_the_columns_the_unit_test_stops_naming_the_override(shop: Path):
    res = _unit_test(shop, [{"id": 1, "country": "Spain"}, {"id": 2, "country": None}], None)
    assert not res.success
    assert "martsmith_fixture_columns" in (res.error or "") + "".join(n.message or "" for n in res.nodes)
