"""The analytic shapes' validators: each bad form is refused with a message that says what is
wrong and what to write instead (the llm planner's repair loop feeds these back verbatim)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.spec import ModelSpec, PivotSpec, WindowSpec
from martsmith.validate.spec_check import check_spec

ORDERS = {"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}
CUSTOMERS = {"alias": "customers", "kind": "source", "source_name": "shop", "table": "customers"}
MONTH = {"name": "order_month", "input": "orders", "column": "ordered_at", "time_grain": "month"}
COUNT = {"name": "order_count", "agg": "count", "input": "orders"}
JOIN = {"left": "orders", "left_column": "customer_id", "right": "customers", "right_column": "customer_id"}


def spec(**fields) -> ModelSpec:
    base = {"name": "m", "description": "A shape.", "inputs": [ORDERS], "dimensions": [MONTH], "measures": [COUNT]}
    return ModelSpec.model_validate(base | fields)


def refused(message: str, **fields) -> str:
    """The validation error of a spec with `fields`, which must contain `message` (plain text)."""
    with pytest.raises(ValidationError) as info:
        spec(**fields)
    assert message in str(info.value)
    return str(info.value)


def exists_on_orders(**extra) -> dict:
    return {"input": "orders", "column": "customer_id", "outer": "customers", "outer_column": "customer_id", **extra}


def test_a_window_needs_order_by():
    with pytest.raises(ValidationError, match=r"window 'r': rank needs order_by \(an output column\)"):
        WindowSpec(name="r", function="rank")


def test_a_window_of_a_value_needs_its_column():
    with pytest.raises(ValidationError, match="window 'p': lag needs a column"):
        WindowSpec(name="p", function="lag", order_by="order_month")


def test_share_of_total_takes_no_order_by():
    # An ordered sum is a running sum: the "share" would be of the rows so far.
    with pytest.raises(ValidationError, match="share_of_total takes no order_by"):
        WindowSpec(name="s", function="share_of_total", column="order_count", order_by="order_month")


def test_a_window_reads_output_columns_only():
    message = refused(
        "window 'r': 'amount' is not an output column before the windows",
        windows=[{"name": "r", "function": "running_total", "column": "amount", "order_by": "order_month"}],
    )
    assert "have: order_month, order_count" in message


def test_a_window_does_not_read_another_window():
    refused(
        "window 'b': 'a' is not an output column before the windows",
        windows=[
            {"name": "a", "function": "running_total", "column": "order_count", "order_by": "order_month"},
            {"name": "b", "function": "lag", "column": "a", "order_by": "order_month"},
        ],
    )


def test_having_on_a_dimension_is_refused_with_what_to_use_instead():
    message = refused(
        "having column 'order_month' is not a measure or ratio",
        having=[{"column": "order_month", "op": ">", "values": [1]}],
    )
    assert "filter on dimensions with filters" in message


def test_having_takes_one_value_or_two_for_between():
    refused(
        "having order_count between takes 2 values, got 1",
        having=[{"column": "order_count", "op": "between", "values": [1]}],
    )


def test_having_on_a_ratio_is_accepted():
    s = spec(
        measures=[COUNT, {"name": "amount", "agg": "sum", "input": "orders", "column": "amount"}],
        ratios=[{"name": "avg_amount", "numerator": "amount", "denominator": "order_count"}],
        having=[{"column": "avg_amount", "op": ">", "values": [10]}],
    )
    assert s.output_columns == ["order_month", "order_count", "amount", "avg_amount"]


def test_a_ratio_reads_measures():
    refused(
        "ratio 'r': 'order_month' is not a measure",
        ratios=[{"name": "r", "numerator": "order_count", "denominator": "order_month"}],
    )


def test_exists_input_that_is_also_joined():
    refused(
        "exists input 'customers' is also joined: it must only be read in the exists",
        inputs=[ORDERS, CUSTOMERS],
        joins=[JOIN],
        exists=[{"input": "customers", "column": "customer_id", "outer": "orders", "outer_column": "customer_id"}],
    )


def test_exists_outer_must_be_in_the_query():
    refused(
        "exists outer 'payments' is not in the query: name the base input or a joined one (have: customers)",
        inputs=[CUSTOMERS, ORDERS, {"alias": "payments", "kind": "source", "source_name": "shop", "table": "payments"}],
        kind="listing",
        measures=[],
        dimensions=[{"name": "country", "input": "customers", "column": "country"}],
        exists=[exists_on_orders(outer="payments")],
    )


def test_an_exists_filter_is_on_the_exists_input():
    refused(
        "an exists filter must be on 'orders', not 'customers'",
        inputs=[CUSTOMERS, ORDERS],
        dimensions=[{"name": "country", "input": "customers", "column": "country"}],
        measures=[],
        kind="listing",
        exists=[exists_on_orders(filters=[{"input": "customers", "column": "country", "op": "=", "values": ["DE"]}])],
    )


def test_a_dimension_on_an_exists_input_is_refused():
    # The exists input is read in its own subquery: the select cannot see its columns.
    message = refused(
        "DimensionSpec reads input 'orders', which is not joined",
        inputs=[CUSTOMERS, ORDERS],
        dimensions=[MONTH],
        measures=[],
        kind="listing",
        exists=[exists_on_orders()],
    )
    assert "read it in an exists" in message


def test_a_measure_on_an_input_without_a_join_is_refused():
    refused(
        "MeasureSpec reads input 'customers', which is not joined: add a join to it",
        inputs=[ORDERS, CUSTOMERS],
        measures=[{"name": "customer_count", "agg": "count_distinct", "input": "customers", "column": "customer_id"}],
    )


def test_a_listing_has_no_measures():
    refused("a listing has no measures, having, ratios or pivot (use kind 'aggregate')", kind="listing")


def test_distinct_is_for_listings():
    refused("distinct applies to a listing", distinct=True)


def test_duplicate_pivot_values_are_refused():
    with pytest.raises(ValidationError, match="pivot values 'a' and 'a' would both be column 'order_count_a'"):
        PivotSpec(input="orders", column="status", values=["a", "b", "a"], measure="order_count")


def test_pivot_values_that_make_the_same_column_are_refused():
    with pytest.raises(ValidationError) as info:
        PivotSpec(input="orders", column="status", values=["Completed", "completed"], measure="order_count")
    assert "'Completed' and 'completed' would both be column 'order_count_completed'" in str(info.value)
    assert "pivot a cleaned column" in str(info.value)


def test_pivot_columns_must_not_collide_with_other_outputs():
    refused(
        "duplicate output columns",
        measures=[COUNT, {"name": "order_count_a", "agg": "count", "input": "orders"}],
        pivot={"input": "orders", "column": "status", "values": ["a"], "measure": "order_count"},
    )


def test_pivot_measure_must_be_a_measure():
    refused(
        "pivot measure 'revenue' is not a measure",
        pivot={"input": "orders", "column": "status", "values": ["a"], "measure": "revenue"},
    )


def test_a_pivoted_measure_is_not_a_column_for_having_or_ratios():
    pivot = {"input": "orders", "column": "status", "values": ["placed", "returned"], "measure": "order_count"}
    message = refused(
        "having column 'order_count' is not a measure or ratio",
        pivot=pivot,
        having=[{"column": "order_count", "op": ">", "values": [1]}],
    )
    assert "order_count_placed, order_count_returned" in message
    # Its per-value columns are.
    ok = spec(
        pivot=pivot,
        measures=[COUNT, {"name": "all_orders", "agg": "count", "input": "orders"}],
        ratios=[{"name": "return_share", "numerator": "order_count_returned", "denominator": "all_orders"}],
        having=[{"column": "order_count_returned", "op": ">", "values": [0]}],
    )
    assert "return_share" in ok.output_columns


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("(select max(amount) from orders)", "a subquery or table is not allowed in a measure expression"),
        ("length(read_text('/etc/passwd'))", "read_text() reads files, the network or the environment"),
        ("orders.amount; drop table orders", "must be one expression"),
        ("{{ var('x') }}", "template delimiters"),
    ],
)
def test_a_measure_expression_is_one_safe_scalar_expression(expression, problem):
    refused(problem, measures=[{"name": "x", "agg": "sum", "input": "orders", "expression": expression}])


def test_a_measure_takes_a_column_or_an_expression_not_both():
    refused(
        "give a column or an expression, not both",
        measures=[
            {"name": "x", "agg": "sum", "input": "orders", "column": "amount", "expression": "orders.amount * 2"}
        ],
    )


# -- against the catalog ----------------------------------------------------------------------


def catalog() -> Catalog:
    orders = Table(
        "source",
        "orders",
        "raw",
        "orders",
        source_name="shop",
        columns=[
            Column("order_id", "INTEGER"),
            Column("customer_id", "INTEGER"),
            Column("status", "VARCHAR"),
            Column("ordered_at", "TIMESTAMP"),
            Column("amount", "DECIMAL(10,2)"),
        ],
    )
    customers = Table(
        "source",
        "customers",
        "raw",
        "customers",
        source_name="shop",
        columns=[Column("customer_id", "INTEGER"), Column("country", "VARCHAR")],
    )
    return Catalog(tables=[orders, customers])


def messages(s: ModelSpec) -> list[str]:
    return [f.message for f in check_spec(s, catalog())]


def test_catalog_check_names_the_missing_columns_of_every_shape():
    s = spec(
        inputs=[CUSTOMERS, ORDERS],
        kind="listing",
        measures=[],
        dimensions=[{"name": "country", "input": "customers", "column": "country"}],
        exists=[
            exists_on_orders(
                column="buyer_id", filters=[{"input": "orders", "column": "state", "op": "=", "values": ["x"]}]
            )
        ],
    )
    found = messages(s)
    assert any(m.startswith("exists: column 'buyer_id' does not exist in source:shop.orders") for m in found), found
    assert any(m.startswith("exists filter: column 'state' does not exist") for m in found), found
    pivoted = spec(
        measures=[{**COUNT, "where": [{"input": "orders", "column": "kind", "op": "=", "values": ["x"]}]}],
        pivot={"input": "orders", "column": "state", "values": ["a"], "measure": "order_count"},
    )
    found = messages(pivoted)
    assert any(m.startswith("measure order_count condition: column 'kind' does not exist") for m in found), found
    assert any(m.startswith("pivot: column 'state' does not exist") for m in found), found


def test_catalog_check_passes_a_good_shape():
    s = spec(
        measures=[{"name": "amount", "agg": "sum", "input": "orders", "expression": "orders.amount * 2"}],
        pivot={"input": "orders", "column": "status", "values": ["placed"], "measure": "amount"},
    )
    assert messages(s) == []
