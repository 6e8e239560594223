"""The llm planner's prompt: a pruned schema context and the JSON contract."""

from __future__ import annotations

import json

from fakes.prompt_data import tables_of
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table
from martsmith.plan.prompt import answer_schema, build_messages, relevant_tables, repair_message, schema_context


def big_catalog(noise: int = 50) -> Catalog:
    tables = [
        Table(
            "source",
            "orders",
            "raw",
            "orders",
            source_name="shop",
            columns=[Column("order_id", "INTEGER"), Column("customer_id", "INTEGER"), Column("amount", "DOUBLE")],
            primary_key="order_id",
        ),
        Table(
            "source",
            "customers",
            "raw",
            "customers",
            source_name="shop",
            columns=[Column("customer_id", "INTEGER"), Column("region", "VARCHAR")],
            primary_key="customer_id",
        ),
        Table(
            "model",
            "stg_payments",
            "main",
            "stg_payments",
            description="Card and bank payments.",
            columns=[Column("payment_id", "INTEGER"), Column("method", "VARCHAR", values=["card", "paypal"])],
        ),
    ]
    tables += [
        Table(
            "source",
            f"audit_log_{i}",
            "raw",
            f"audit_log_{i}",
            source_name="ops",
            columns=[Column(f"event_{j}", "VARCHAR", "x" * 40) for j in range(40)],
        )
        for i in range(noise)
    ]
    fks = [ForeignKey("source:shop.orders", "customer_id", "source:shop.customers", "customer_id")]
    return Catalog(tables=tables, foreign_keys=fks)


def test_relevant_tables_by_words_and_foreign_keys():
    cat = big_catalog()
    assert [t.name for t in relevant_tables("total amount per order", cat)] == ["orders", "customers"]
    assert [t.name for t in relevant_tables("paypal share", cat)] == ["stg_payments"]  # by a value


def test_schema_context_is_pruned_and_capped():
    cat = big_catalog()
    text = schema_context("total amount per order", cat)
    assert "audit_log" not in text
    tables = tables_of(text)
    assert list(tables) == ["source('shop', 'orders')", "source('shop', 'customers')"]
    assert tables["source('shop', 'orders')"]["foreign_keys"] == [
        {"column": "customer_id", "references": "source('shop', 'customers').customer_id"}
    ]
    assert text.endswith("</data>\n(51 other tables are not shown: they do not match the request.)")
    assert "ref('stg_payments')" in tables_of(schema_context("payments by method", cat))
    # Nothing matches: some tables are still shown, within the size cap.
    assert len(schema_context("zzz", cat, max_chars=4000)) < 6000


def test_contract_leaves_out_tool_fields():
    schema = answer_schema()
    assert {"request", "planner", "tests"}.isdisjoint(schema["properties"])
    assert "TestSpec" not in schema["$defs"] and "sql_body" in schema["properties"]
    system, user = build_messages("amount per order", big_catalog(2))
    assert json.dumps(schema, separators=(",", ":")) in system["content"]
    assert "ONE JSON object" in system["content"] and "One row per" in system["content"]
    assert "{{ ref('model') }}" in system["content"]
    assert user["content"].rstrip().endswith("Answer with the JSON object only.")


def test_repair_message_lists_errors():
    text = repair_message(["column 'amout' does not exist", "name: bad"])
    assert "- column 'amout' does not exist\n- name: bad" in text
