"""`martsmith unit-test` on Apache Spark: the picker stages its rows in temporary views (Spark's
take no INSERT, so the stage keeps the rows and makes each view again), the expected rows come
from the model's Spark SQL run by Spark on views of the picked rows, and dbt runs the unit test
on Spark. For each model the unit test is the one the DuckDB sample gets, row for row; it fails
once the model is wrong; and the warehouse is left as it was.

The models are written here (what `martsmith model` writes for their requests) and built with
dbt: the project is shared with the scenario (test_spark_scenario.py), whose star schema, built
in any order, would make the same requests read other tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from tests.engines.spark import GROUP

pytestmark = pytest.mark.xdist_group(GROUP)

DEDUPED = """\
{name} as (

    {{{{ martsmith.deduplicate(
        source('shop', '{name}'), partition_by='id', order_by='updated_at desc nulls last'
    ) }}}}

)"""

# "total revenue by customer country per month": two deduplicated inputs (the default dedupe on
# Spark), a left join, customers without a country.
REVENUE = f"""\
with

{DEDUPED.format(name="orders")},

{DEDUPED.format(name="customers")},

aggregated as (

    select
        customers.country as customer_country,
        cast({{{{ dbt.date_trunc('month', 'orders.ordered_at') }}}} as date) as order_month,
        sum(orders.amount) as total_revenue
    from orders
    left join customers
        on orders.customer_id = customers.id
    group by 1, 2

)

select
    {{{{ martsmith.surrogate_key(['customer_country', 'order_month']) }}}} as revenue_key,
    customer_country,
    order_month,
    total_revenue
from aggregated
"""

# "running total of order amount by month": a window over an aggregate, whose test holds two
# rows of one window.
RUNNING_TOTAL = f"""\
with

{DEDUPED.format(name="orders")},

aggregated as (

    select
        cast({{{{ dbt.date_trunc('month', 'orders.ordered_at') }}}} as date) as order_month,
        sum(orders.amount) as total_order_amount
    from orders
    group by 1

)

select
    order_month,
    total_order_amount,
    sum(total_order_amount)
        over (order by order_month rows between unbounded preceding and current row)
        as running_total_order_amount
from aggregated
"""

# name -> (the model's SQL, a piece of it, the same piece made wrong)
MODELS = {
    "spark_unit_revenue": (REVENUE, "left join customers", "inner join customers"),
    "spark_unit_running_total": (
        RUNNING_TOTAL,
        "sum(total_order_amount)\n        over",
        "max(total_order_amount)\n        over",
    ),
}


def _cli(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)], catch_exceptions=False)


def _unit_test(root: Path, name: str) -> dict:
    """Build model `name` with dbt, generate its unit test (dbt runs it), and return the test as
    written in the model's YAML."""
    (root / f"models/marts/{name}.sql").write_text(MODELS[name][0])
    built = Dbt(load_project(root)).invoke(["run", "--select", name])
    assert built.success, built.error
    result = _cli(root, "unit-test", name, "--yes")
    assert result.exit_code == 0, result.output
    assert "dbt test: passed" in result.output, result.output
    (test,) = yaml.safe_load((root / f"models/marts/{name}.yml").read_text())["unit_tests"]
    return test


def _state(root: Path) -> tuple[set, set]:
    """The permanent relations and the session's temporary views."""
    with Warehouse(load_project(root)) as wh:
        return wh.relations(), {t.name for t in wh.con.catalog.listTables() if t.isTemporary}


@pytest.mark.parametrize("name", list(MODELS))
def test_unit_test_on_spark_is_the_one_duckdb_gives_and_fails_once_the_model_is_wrong(spark_shop, sample_project, name):
    relations, views = _state(spark_shop)
    on_spark = _unit_test(spark_shop, name)
    after_relations, after_views = _state(spark_shop)
    assert after_relations == relations | {("analytics", name)}  # the model, nothing of the test's
    assert after_views == views  # the picker's and the expected rows' views are dropped

    on_duck = _unit_test(sample_project, name)
    # Spark's dedupe is the default version, which in a unit test reads each input's columns
    # from the test (macros/sql/deduplicate.sql); DuckDB's needs none.
    overrides = on_spark.pop("overrides")
    columns = overrides["vars"]["martsmith_fixture_columns"]
    assert columns["__dbt__cte__shop__orders"][:2] == ["id", "customer_id"]
    assert "overrides" not in on_duck
    # The same rows picked, the same rows expected, the same behaviours covered.
    assert on_spark == on_duck
    assert on_spark["given"] and on_spark["expect"]["rows"]
    if name == "spark_unit_running_total":
        assert len(on_spark["expect"]["rows"]) >= 2  # two months in the window

    path = spark_shop / f"models/marts/{name}.sql"
    good = path.read_text()
    _, right, wrong = MODELS[name]
    assert right in good
    path.write_text(good.replace(right, wrong))
    try:
        res = Dbt(load_project(spark_shop)).invoke(["test", "--select", f"{name},test_type:unit"])
    finally:
        path.write_text(good)
    assert [(n.name, n.status) for n in res.nodes] == [(f"{name}__real_rows", "fail")]
