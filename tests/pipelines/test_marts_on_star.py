"""After `star`, new models are built on the star schema (facts, dimensions, staging), not on the
raw sources underneath it."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration


def test_a_mart_on_the_star_schema(sample_project):
    run = lambda *a: CliRunner().invoke(main, [*a, "--project-dir", str(sample_project)], catch_exceptions=False)  # noqa: E731
    star = run(
        "star", "sales star schema: order lines as the fact, with customers, products and dates as dimensions", "--yes"
    )
    assert star.exit_code == 0, star.output
    result = run("model", "total quantity by product category", "--name", "qty_by_category", "--yes")
    assert result.exit_code == 0, result.output
    sql = (sample_project / "models/marts/qty_by_category.sql").read_text()
    assert "ref('fct_order_items')" in sql and "ref('dim_product')" in sql and "source(" not in sql
    assert "reading fct_order_items (built on" in result.output
    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    try:
        got = sorted(
            con.execute("select product_category, total_quantity from main.qty_by_category").fetchall(), key=str
        )
        want = sorted(
            con.execute(
                "select p.category, sum(f.quantity) from main.fct_order_items f "
                "left join main.dim_product p on f.product_key = p.product_key group by 1"
            ).fetchall(),
            key=str,
        )
    finally:
        con.close()
    assert got == want
