import pytest

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.spec import DimensionSpec, InputSpec, MeasureSpec, ModelSpec
from martsmith.validate.spec_check import check_spec
from martsmith.validate.static import check_columns, check_safety, check_sql


@pytest.fixture
def catalog():
    orders = Table(
        kind="source",
        name="orders",
        schema="raw",
        identifier="orders",
        source_name="shop",
        columns=[
            Column("id", "INTEGER"),
            Column("status", "VARCHAR"),
            Column("amount", "DECIMAL(12,2)"),
            Column("note", "VARCHAR"),
            Column("ordered_at", "TIMESTAMP"),
        ],
    )
    return Catalog(tables=[orders])


@pytest.mark.parametrize(
    "sql, fragment",
    [
        ("select 1 as x; select 2 as y", "exactly one SELECT"),
        ("drop table raw.orders", "expected a SELECT"),
        ("create table x as select 1 as a", "expected a SELECT"),
        ("select * from read_csv('/etc/passwd')", "not allowed"),
        ("select * from 'data.csv'", "not allowed"),
        ("select getenv('HOME') as h", "getenv"),
        ("select * from read_parquet('s3://bucket/x.parquet')", "not allowed"),
        ("select from where", "does not parse"),
    ],
)
def test_safety_rejects(sql, fragment):
    findings = check_safety(sql)
    assert findings, sql
    assert any(fragment in f.message for f in findings), findings


def test_safety_accepts_plain_select():
    assert check_safety("with a as (select 1 as x) select x from a") == []


def test_columns_unknown_column(catalog):
    findings = check_columns('select amout from "raw"."orders"', catalog)
    assert findings and "amout" in findings[0].message


def test_columns_unknown_table(catalog):
    findings = check_columns('select id from "raw"."ordres"', catalog)
    assert findings and "unknown table" in findings[0].message


def test_columns_known(catalog):
    assert check_columns('with o as (select * from "raw"."orders") select o.amount from o', catalog) == []


def test_check_sql_renders_jinja(catalog):
    ok = "with o as (select * from {{ source('shop', 'orders') }}) select o.status from o"
    assert check_sql(ok, catalog) == []
    bad = "select * from {{ source('shop', 'refunds') }}"
    assert "not a source or model" in check_sql(bad, catalog)[0].message
    evil = "select {{ run_query('drop table x') }} as x"
    assert "run_query(...) is not allowed" in check_sql(evil, catalog)[0].message


def _spec(**kw):
    base = dict(
        name="m",
        description="d",
        request="r",
        planner="t",
        inputs=[InputSpec(alias="orders", kind="source", source_name="shop", table="orders")],
        measures=[MeasureSpec(name="n", agg="count", input="orders")],
    )
    base.update(kw)
    return ModelSpec(**base)


def test_spec_unknown_column_lists_columns(catalog):
    spec = _spec(dimensions=[DimensionSpec(name="s", input="orders", column="stat")])
    (finding,) = check_spec(spec, catalog)
    assert "'stat' does not exist in source:shop.orders" in finding.message
    assert "status" in finding.message


def test_spec_sum_of_text_is_refused(catalog):
    spec = _spec(measures=[MeasureSpec(name="t", agg="sum", input="orders", column="note")])
    assert "not a number" in check_spec(spec, catalog)[0].message


def test_spec_time_grain_needs_time(catalog):
    spec = _spec(dimensions=[DimensionSpec(name="s", input="orders", column="status", time_grain="month")])
    assert "not a date" in check_spec(spec, catalog)[0].message


def test_spec_unknown_input(catalog):
    spec = _spec(inputs=[InputSpec(alias="orders", kind="ref", table="stg_orders")])
    assert "ref('stg_orders') is not in the project" in check_spec(spec, catalog)[0].message


@pytest.mark.parametrize("name", ["../../etc/x", "a/b", "Revenue", "1abc", "a b", ""])
def test_model_name_rejects_paths_and_bad_identifiers(name):
    with pytest.raises(ValueError):
        _spec(name=name)


def test_planners_skip_generated_aggregates_but_not_other_generated_models():
    from martsmith.context.catalog import ForeignKey

    fct = Table(
        kind="model",
        name="fct_orders",
        schema="m",
        identifier="fct_orders",
        columns=[Column("customer_key", "VARCHAR")],
    )
    dim = Table(
        kind="model",
        name="dim_customer",
        schema="m",
        identifier="dim_customer",
        columns=[Column("customer_key", "VARCHAR")],
    )
    agg = Table(
        kind="model", name="revenue_by_month", schema="m", identifier="revenue_by_month", generated_aggregate=True
    )
    catalog = Catalog(
        tables=[fct, dim, agg], foreign_keys=[ForeignKey("fct_orders", "customer_key", "dim_customer", "customer_key")]
    )
    kept = catalog.without_generated_aggregates()
    assert [t.name for t in kept.tables] == ["fct_orders", "dim_customer"]
    assert len(kept.foreign_keys) == 1


@pytest.mark.parametrize(
    "body",
    [
        "pivot o on status using count(*) group by customer_id",
        "select * from o pivot (count(*) for status in ('placed', 'shipped'))",
        "p as (pivot o on status using count(*) group by customer_id) select * from p",
    ],
)
def test_pivot_is_refused_with_what_to_write_instead(catalog, body, caplog):
    sql = (
        "with o as (select * from {{ source('shop', 'orders') }})"
        + ("," if body.startswith("p as") else "")
        + " "
        + body
    )
    with caplog.at_level("WARNING"):
        (finding,) = check_sql(sql, catalog)
    assert "PIVOT is not supported" in finding.message and "filter (where" in finding.message
    assert "<class" not in finding.message
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
