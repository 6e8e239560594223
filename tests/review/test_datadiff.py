"""The data diff and the fan-out check on a small DuckDB file (no dbt)."""

from __future__ import annotations

from projects import duckdb_project

from martsmith.context.warehouse import Warehouse
from martsmith.review.changes import ModelState
from martsmith.review.checks import fan_out_findings
from martsmith.review.datadiff import diff_model

SETUP = """
create schema b; create schema h;
create table b.m as select * from (values (1, 'x', 10.0), (2, 'y', 20.0), (3, 'z', 30.0), (null, 'n', 0.0)) t(k, s, v);
create table h.m as select * from (values (1, 'x', 10.0), (2, 'y', 25.0), (4, 'w', 40.0), (null, 'n', 0.0)) t(k, s, v);
create table h.wide as select 1 as k, 2 as extra;
"""


def test_key_diff_counts_added_removed_and_changed_rows_with_examples(tmp_path):
    with Warehouse(duckdb_project(tmp_path, SETUP)) as wh:
        d = diff_model(wh, "m", ("b", "m"), ("h", "m"), ["k"])
    assert (d.base_rows, d.head_rows, d.rows_added, d.rows_removed, d.rows_changed) == (4, 4, 1, 1, 1)
    assert d.changed_columns == {"v": 1}  # a null key matches a null key
    assert d.examples_changed == [{"k": 2, "v": {"base": 20.0, "head": 25.0}}]
    assert d.examples_added[0]["k"] == 4 and d.examples_removed[0]["k"] == 3
    assert d.verdict == "1 row changed in v; 1 row added; 1 row removed"
    assert {(c.column, c.stat) for c in d.profile_changes} >= {("v", "max"), ("s", "top_values")}


def test_schema_diff_and_new_models(tmp_path):
    with Warehouse(duckdb_project(tmp_path, SETUP)) as wh:
        d = diff_model(wh, "m", ("b", "m"), ("h", "wide"), ["k"])
        new = diff_model(wh, "m", None, ("h", "m"), ["k"])
        unbuilt = diff_model(wh, "m", ("b", "m"), None, ["k"])
    assert d.columns_added == ["extra"] and d.columns_removed == ["s", "v"]
    assert (new.status, new.verdict) == ("new", "new model: 4 rows")
    assert unbuilt.verdict == "not built"


def test_fan_out_is_checked_on_the_joined_cte(tmp_path):
    setup = "create table o as select range as id, range % 3 as c from range(9); create table c as select range % 3 as id from range(6)"
    sql = (
        "with orders as (select * from o), customers as (select * from c), "
        "deduped as (select distinct id from c) "
        "select * from orders join customers on orders.c = customers.id join deduped on orders.c = deduped.id"
    )
    m = ModelState("model.p.m", "m", "models/m.sql", "x", raw_code=sql)
    with Warehouse(duckdb_project(tmp_path, setup)) as wh:
        (finding,) = fan_out_findings(wh, m, sql)
    assert finding.rule == "MS011" and "join of customers on id: 3 key values repeat" in finding.message
