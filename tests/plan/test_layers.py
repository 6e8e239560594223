"""A project that already has staging models and a star schema over its sources: the planners
read the modelled nodes, not the raw sources they are built on."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import Catalog, Column, ForeignKey, Table, infer_foreign_keys
from martsmith.errors import PlanError
from martsmith.plan.offline import plan_offline


def src(name, cols, pk="id", unique=True):
    return Table(
        "source",
        name,
        "raw",
        name,
        source_name="shop",
        columns=[Column(*c) for c in cols],
        primary_key=pk,
        primary_key_unique=unique,
    )


def model(name, cols, pk, unique_cols=()):
    columns = [Column(*c) for c in cols]
    for c in columns:
        if c.name in unique_cols:
            c.tests.append("unique")
    return Table("model", name, "main", name, columns=columns, primary_key=pk, primary_key_unique=True)


RAW_ORDERS = src(
    "orders",
    [("id", "INTEGER"), ("customer_id", "INTEGER"), ("status", "VARCHAR"), ("amount", "DECIMAL(12,2)")],
    unique=False,
)
RAW_CUSTOMERS = src("customers", [("id", "INTEGER"), ("country", "VARCHAR")], unique=False)
STG_ORDERS = model(
    "stg_shop__orders",
    [("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("status", "VARCHAR"), ("amount", "DECIMAL(12,2)")],
    "order_id",
    ["order_id"],
)
STG_CUSTOMERS = model(
    "stg_shop__customers", [("customer_id", "INTEGER"), ("country", "VARCHAR")], "customer_id", ["customer_id"]
)
DIM_CUSTOMER = model(
    "dim_customer",
    [("customer_key", "VARCHAR"), ("customer_id", "INTEGER"), ("country", "VARCHAR")],
    "customer_key",
    ["customer_key", "customer_id"],
)
TABLES = [RAW_ORDERS, RAW_CUSTOMERS, STG_ORDERS, STG_CUSTOMERS, DIM_CUSTOMER]
LINEAGE = {
    "stg_shop__orders": {"source:shop.orders"},
    "stg_shop__customers": {"source:shop.customers"},
    "dim_customer": {"stg_shop__customers", "source:shop.customers"},
}


def catalog() -> Catalog:
    fks = [ForeignKey("source:shop.orders", "customer_id", "source:shop.customers", "id", "declared")]
    fks += infer_foreign_keys(TABLES, fks)
    return Catalog(tables=TABLES, foreign_keys=fks, ancestors=LINEAGE)


def test_a_foreign_key_reaches_every_table_holding_the_same_unique_column():
    fks = {(f.table, f.column, f.ref_table, f.ref_column) for f in catalog().foreign_keys}
    assert ("stg_shop__orders", "customer_id", "stg_shop__customers", "customer_id") in fks
    assert ("stg_shop__orders", "customer_id", "dim_customer", "customer_id") in fks


def test_the_downstream_node_is_read_not_the_source_it_is_built_on():
    spec = plan_offline("number of orders per status", catalog())
    assert [(i.kind, i.table) for i in spec.inputs] == [("ref", "stg_shop__orders")]
    assert any("stg_shop__orders (built on orders)" in n for n in spec.notes)


def test_dimension_attributes_come_from_the_dimension():
    spec = plan_offline("total revenue by customer country", catalog())
    assert [i.table for i in spec.inputs] == ["stg_shop__orders", "dim_customer"]
    assert [(j.left_column, j.right, j.right_column) for j in spec.joins] == [
        ("customer_id", "dim_customer", "customer_id")
    ]
    assert [(d.input, d.column) for d in spec.dimensions] == [("dim_customer", "country")]


def test_without_lineage_the_same_names_are_still_ambiguous():
    no_lineage = Catalog(tables=TABLES, foreign_keys=catalog().foreign_keys)
    with pytest.raises(PlanError, match="ambiguous"):
        plan_offline("number of orders per status", no_lineage)


def test_a_listing_reads_the_model_not_the_source_it_is_built_on():
    spec = plan_offline("country of customers", catalog())
    assert spec.kind == "listing"
    assert [i.table for i in spec.inputs] == ["dim_customer"]
    assert [(d.input, d.column) for d in spec.dimensions] == [("dim_customer", "country")]


# A mart and its own staging model hold the same order_id: two equally short join paths.
PAYMENTS = model(
    "stg_payments",
    [("payment_id", "INTEGER"), ("order_id", "INTEGER"), ("method", "VARCHAR"), ("paid", "DECIMAL(12,2)")],
    "payment_id",
    ["payment_id"],
)
STG = model("stg_orders", [("order_id", "INTEGER"), ("customer_id", "INTEGER")], "order_id", ["order_id"])
MART = model(
    "orders", [("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("placed", "DATE")], "order_id", ["order_id"]
)
CUSTOMERS = model("customers", [("customer_id", "INTEGER"), ("city", "VARCHAR")], "customer_id", ["customer_id"])
HOPS = [PAYMENTS, STG, MART, CUSTOMERS]


def hops_catalog(lineage: bool = True) -> Catalog:
    fks = infer_foreign_keys(HOPS, [])
    ancestors = {"orders": {"stg_orders", "stg_payments"}} if lineage else {}
    return Catalog(tables=HOPS, foreign_keys=fks, ancestors=ancestors)


def test_a_join_path_hops_through_the_downstream_layer():
    spec = plan_offline("total paid by customer city", hops_catalog())
    assert [(j.left, j.left_column, j.right, j.right_column) for j in spec.joins] == [
        ("stg_payments", "order_id", "orders", "order_id"),
        ("orders", "customer_id", "customers", "customer_id"),
    ]


def test_paths_through_unrelated_tables_name_each_hop_once():
    with pytest.raises(PlanError) as err:
        plan_offline("total paid by customer city", hops_catalog(lineage=False))
    message = str(err.value)
    assert "'customer_id' or 'customer_id'" not in message
    assert "through orders" in message and "through stg_orders" in message


def test_a_mart_is_a_later_layer_of_its_own_entity_only():
    """orders is built on stg_orders and stg_payments: a later layer of the order, not of the
    payment, so a payment's amount per method is read from the payments."""
    pays = model(
        "stg_payments",
        [("payment_id", "INTEGER"), ("order_id", "INTEGER"), ("method", "VARCHAR"), ("amount", "DECIMAL(12,2)")],
        "payment_id",
        ["payment_id"],
    )
    stg = model("stg_orders", [("order_id", "INTEGER"), ("status", "VARCHAR")], "order_id", ["order_id"])
    mart = model(
        "orders",
        [("order_id", "INTEGER"), ("status", "VARCHAR"), ("amount", "DECIMAL(12,2)")],
        "order_id",
        ["order_id"],
    )
    tables = [pays, stg, mart]
    cat = Catalog(
        tables=tables,
        foreign_keys=infer_foreign_keys(tables, []),
        ancestors={"orders": {"stg_orders", "stg_payments"}},
    )
    assert cat.is_upstream_of("stg_orders", "orders") and not cat.is_upstream_of("stg_payments", "orders")
    spec = plan_offline("total amount per method", cat)
    assert [i.table for i in spec.inputs] == ["stg_payments"]
    spec = plan_offline("number of orders per status", cat)
    assert [i.table for i in spec.inputs] == ["orders"]
