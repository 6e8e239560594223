"""`martsmith star --scd2 customer` on the sample project: the customer dimension keeps the
versions in raw.customers (late-arriving updates), and every fact row points at the version
valid when the order was placed. One dbt build, so one test; the refusals write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from martsmith import cli
from tests.star.test_plan import SALES
from tests.star.test_star_command import _tree


def _run(project: Path, *args: str):
    where = ["--project-dir", str(project), "--profiles-dir", str(project)]
    return CliRunner().invoke(cli.main, ["star", *args, *where])


def test_scd2_customer_builds_history_and_facts_pick_the_version_of_their_order_time(sample_project: Path):
    res = _run(sample_project, SALES, "--scd2", "customer", "--yes")
    assert res.exit_code == 0, res.output
    assert "dim_customer: SCD type 2 from the versions in customers" in res.output
    assert "valid_from" in (sample_project / "models/marts/sales/_sales__erd.md").read_text()
    results = json.loads((sample_project / "target" / "run_results.json").read_text())["results"]
    assert {r["status"] for r in results} <= {"success", "pass"}, [
        r for r in results if r["status"] not in ("success", "pass")
    ]
    tests = {r["unique_id"].split(".")[2] for r in results if r["unique_id"].startswith("test.")}
    assert any(t.startswith("unique_dim_customer_customer_id") for t in tests)  # where: is_current
    assert any(t.startswith("martsmith_unique_combination_of_columns_dim_customer") for t in tests)

    with duckdb.connect(str(sample_project / "shop.duckdb")) as con:

        def one(q: str):
            return con.execute(q).fetchall()[0]

        rows, customers = one(
            "select count(*), count(distinct customer_id) from main.dim_customer where customer_id is not null"
        )
        assert rows > customers  # history: some customers have several versions
        assert one("""select count(*) from (
            select customer_id from main.dim_customer where customer_id is not null
            group by customer_id having count(*) filter (where is_current) <> 1)""") == (0,)
        unknown = "(select customer_key from main.dim_customer where customer_id is null)"
        wrong, historical, total = one(f"""
            select
                count(*) filter (where f.customer_key <> coalesce(d.customer_key, {unknown})),
                count(*) filter (where not d.is_current),
                count(*)
            from main.fct_order_items as f
            inner join main.stg_shop__orders as o on f.order_id = o.order_id
            left join main.dim_customer as d
                on o.customer_id = d.customer_id
                and o.ordered_at >= d.valid_from
                and o.ordered_at < d.valid_to""")
    assert total > 0 and wrong == 0
    assert historical > 0  # some order lines point at a customer's earlier version


def test_scd2_is_refused_without_history_or_dimension(sample_project: Path):
    before = _tree(sample_project)
    res = _run(sample_project, SALES, "--scd2", "product", "--yes")
    assert res.exit_code == 2, res.output
    assert "dim_product can't be type 2: products carries no history (no updated_at-like column" in res.output
    res = _run(sample_project, SALES, "--scd2", "supplier", "--yes")
    assert res.exit_code == 2, res.output
    assert "--scd2 supplier: the layout has no dimension 'supplier'." in res.output
    assert _tree(sample_project) == before
