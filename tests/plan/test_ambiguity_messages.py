"""Ambiguity messages name each alternative once, distinctly, and offer wordings that pick one:
a request rewritten with a suggested wording plans without the ambiguity."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.errors import PlanError
from martsmith.plan.offline import plan_offline


def table(name, cols, values=None, kind="model", source_name=None, schema="main"):
    t = Table(
        kind,
        name,
        schema,
        name,
        source_name=source_name,
        columns=[Column(n, ty) for n, ty in cols],
        primary_key=cols[0][0],
        primary_key_unique=True,
    )
    for column, vals in (values or {}).items():
        t.column(column).values = vals
    return t


ORDERS = table(
    "orders",
    [("order_id", "INTEGER"), ("status", "VARCHAR"), ("payment_status", "VARCHAR"), ("amount", "DOUBLE")],
    {"status": ["completed", "placed"], "payment_status": ["completed", "pending"]},
)
REFUNDS = table(
    "refunds", [("refund_id", "INTEGER"), ("state", "VARCHAR"), ("refunded", "DOUBLE")], {"state": ["completed"]}
)


def _error(request: str, catalog: Catalog) -> PlanError:
    with pytest.raises(PlanError) as err:
        plan_offline(request, catalog)
    return err.value


def test_a_value_of_two_columns_of_one_table_is_named_once_each_without_a_useless_quote():
    err = _error("number of completed orders", Catalog(tables=[ORDERS]))
    assert str(err).startswith(
        "'completed' is ambiguous: it could be orders.payment_status = 'completed' or orders.status = 'completed'."
    )
    assert "'orders completed'" not in err.hint  # naming the table cannot tell two of its columns apart
    assert "columns of orders with the same value" in err.hint


def test_values_in_two_tables_get_one_quotable_wording_each():
    orders = table("orders", [("order_id", "INTEGER"), ("status", "VARCHAR")], {"status": ["completed"]})
    catalog = Catalog(tables=[orders, REFUNDS])
    err = _error("number of rows completed", catalog)
    assert err.hint == "Say which one, e.g. 'orders completed' or 'refunds completed'."
    for wording, column in (("orders completed", "status"), ("refunds completed", "state")):
        spec = plan_offline(f"number of {wording}", catalog)
        assert [f.column for f in spec.filters] == [column]


def test_two_columns_of_one_table_get_their_column_words():
    payments = table(
        "payments",
        [("payment_id", "INTEGER"), ("gross_amount", "DOUBLE"), ("net_amount", "DOUBLE"), ("city", "VARCHAR")],
    )
    catalog = Catalog(tables=[payments])
    err = _error("total amount by city", catalog)
    assert err.hint == "Say which one, e.g. 'payments gross amount' or 'payments net amount'."
    for wording, column in (("payments gross amount", "gross_amount"), ("payments net amount", "net_amount")):
        spec = plan_offline(f"total {wording} by city", catalog)
        assert [m.column for m in spec.measures] == [column]


def test_tables_of_one_name_in_two_sources_are_told_apart_by_their_labels():
    shop = table("orders", [("id", "INTEGER"), ("amount", "DOUBLE")], kind="source", source_name="shop", schema="raw")
    stripe = table(
        "orders", [("id", "INTEGER"), ("amount", "DOUBLE")], kind="source", source_name="stripe", schema="stripe"
    )
    err = _error("total amount", Catalog(tables=[shop, stripe]))
    assert str(err).startswith(
        "'amount' is ambiguous: it could be source:shop.orders.amount or source:stripe.orders.amount."
    )
