"""`martsmith unit-test` on a model of every shape `martsmith model` writes, end to end on the
sample shop: each unit test is written, dbt runs it and it passes; a window's test holds two rows
of one window (one row would test nothing), and a test fails once the model's SQL is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project

pytestmark = pytest.mark.integration

# name -> (request, a piece of the model's SQL that makes it that shape)
SHAPES = {
    "aggregate": ("total revenue by customer country", "sum("),
    "join_without_keys": ("number of orders per customer country", "left join customers"),
    "running_total": ("monthly revenue with its running total", "rows between unbounded preceding and current row"),
    "ranked": ("rank products by units sold within each category", "rank() over (partition by"),
    "lagged": ("monthly revenue and the change from the previous month", "lag("),
    "pivoted": ("payments per month by method, one column per method", "count(case when payments.method ="),
    "with_exists": ("customers who placed an order", "where\n        exists ("),
    "not_exists": ("active products never sold", "not exists ("),
    "having": ("customers with more than 5 orders", "order_count > 5"),
    # Last: a listing is a model later requests could read (it is no aggregate).
    "listing": ("ids and amounts of completed orders", "selected as ("),
}
WINDOWS = {"running_total", "ranked", "lagged"}


@pytest.fixture(scope="module")
def shop(sample_project_template: Path, tmp_path_factory) -> Path:
    """The sample shop with one model of each shape, built by `martsmith model`."""
    root = tmp_path_factory.mktemp("shapes") / "shop"
    shutil.copytree(sample_project_template, root, symlinks=True)
    for name, (request, _) in SHAPES.items():
        made = CliRunner().invoke(main, ["model", request, "--name", name, "--yes", "--project-dir", str(root)])
        assert made.exit_code == 0, made.output
    return root


def _unit_test(root: Path, name: str) -> dict:
    result = CliRunner().invoke(main, ["unit-test", name, "--yes", "--format", "json", "--project-dir", str(root)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _dbt_unit(root: Path, name: str):
    return Dbt(load_project(root)).invoke(["test", "--select", f"{name},test_type:unit"])


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_shape_gets_a_unit_test_that_dbt_passes(shop: Path, name: str):
    sql = (shop / f"models/marts/{name}.sql").read_text()
    assert SHAPES[name][1] in sql  # the model is the shape it stands for

    out = _unit_test(shop, name)
    assert out["written"] and out["passed"]
    assert out["expected_rows"] > 0
    assert all(n > 0 for n in out["given"].values()), out["given"]
    if name in WINDOWS:
        spans = [c for c in out["coverage"] if "two rows in one window" in c["reason"]]
        assert spans and all(c["covered"] for c in spans), out["coverage"]
        assert out["expected_rows"] >= 2

    [test] = yaml.safe_load((shop / f"models/marts/{name}.yml").read_text())["unit_tests"]
    assert test["expect"]["rows"]
    res = _dbt_unit(shop, name)
    assert res.success, res.error
    assert [(n.name, n.status) for n in res.nodes] == [(f"{name}__real_rows", "pass")]


@pytest.mark.parametrize(
    ("name", "right", "wrong"),
    [
        ("running_total", "sum(total_revenue)\n            over", "max(total_revenue)\n            over"),
        ("ranked", "order by total_unit desc", "order by total_unit asc"),
    ],
)
def test_the_unit_test_fails_once_the_model_is_wrong(shop: Path, name: str, right: str, wrong: str):
    path = shop / f"models/marts/{name}.sql"
    if not (shop / f"models/marts/{name}.yml").read_text().count("unit_tests:"):
        _unit_test(shop, name)
    assert _dbt_unit(shop, name).success
    good = path.read_text()
    assert right in good
    path.write_text(good.replace(right, wrong))
    try:
        res = _dbt_unit(shop, name)
        assert not res.success
        assert [(n.name, n.status) for n in res.nodes] == [(f"{name}__real_rows", "fail")]
    finally:
        path.write_text(good)
