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
    assert text.endswith("</data>\n(51 other tables are not shown: less related to the request, or not at all.)")
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


def bikeshare(models: int = 12) -> Catalog:
    """Trips, stations and a trip's events, plus a dozen earlier models about trips."""
    trips = Table(
        "source",
        "trips",
        "raw",
        "trips",
        source_name="bike",
        columns=[
            Column("trip_id", "INTEGER"),
            Column("start_station_id", "INTEGER"),
            Column("end_station_id", "INTEGER"),
            Column("started_at", "TIMESTAMP"),
        ],
        primary_key="trip_id",
    )
    stations = Table(
        "source",
        "stations",
        "raw",
        "stations",
        source_name="bike",
        columns=[Column("id", "INTEGER"), Column("name", "VARCHAR"), Column("city", "VARCHAR")],
        primary_key="id",
    )
    events = Table(
        "source",
        "trip_events",
        "raw",
        "trip_events",
        source_name="bike",
        columns=[Column("event_id", "INTEGER"), Column("trip_id", "INTEGER"), Column("kind", "VARCHAR")],
    )
    earlier = [
        Table(
            "model",
            f"trips_by_start_station_{i}",
            "main",
            f"trips_by_start_station_{i}",
            columns=[Column("start_station_id", "INTEGER"), Column("trip_count", "BIGINT")],
            generated_aggregate=i % 2 == 0,
        )
        for i in range(models)
    ]
    fks = [ForeignKey("source:bike.trip_events", "trip_id", "source:bike.trips", "trip_id")]
    return Catalog(tables=[trips, *earlier, stations, events], foreign_keys=fks)


def test_the_table_a_rare_word_needs_is_kept_among_many_similar_models():
    text = schema_context("trips by start city", bikeshare())
    tables = tables_of(text)
    assert "source('bike', 'stations')" in tables and "source('bike', 'trips')" in tables
    assert text.endswith(
        f"({len(bikeshare().tables) - len(tables)} other tables are not shown: "
        "less related to the request, or not at all.)"
    )


def test_role_playing_keys_and_keys_named_after_the_table():
    tables = tables_of(schema_context("trip events by start station city", bikeshare(models=0)))
    trips = tables["source('bike', 'trips')"]
    assert {"column": "start_station_id", "references": "source('bike', 'stations').id", "by_name": True} in trips[
        "foreign_keys"
    ]
    events = tables["source('bike', 'trip_events')"]
    assert events["primary_key"] == "event_id" and events["primary_key_by_name"] is True


def test_generated_models_are_shown_and_their_aggregates_marked():
    tables = tables_of(schema_context("trips by start station", bikeshare(models=2)))
    assert tables["ref('trips_by_start_station_0')"]["generated_aggregate"] is True
    assert "generated_aggregate" not in tables["ref('trips_by_start_station_1')"]  # e.g. a sql_body model


def test_the_prompt_states_the_dialect_and_the_style_rules():
    system, _ = build_messages("trips by start city", bikeshare(), dialect="postgres")
    assert 'The warehouse is "postgres"' in system["content"]
    assert "every selected expression has an explicit alias" in system["content"]
    assert "date truncated to that grain" in system["content"]


def test_a_wide_table_shows_the_columns_the_request_names():
    wide = Table(
        "source",
        "events",
        "raw",
        "events",
        source_name="app",
        columns=[
            Column("id", "INTEGER"),
            *[Column(f"attr_{i}", "VARCHAR") for i in range(100)],
            Column("country", "VARCHAR"),
        ],
        primary_key="id",
    )
    (facts,) = tables_of(schema_context("events by country", Catalog(tables=[wide]))).values()
    names = [c["name"] for c in facts["columns"]]
    assert "country" in names and "id" in names and facts["more_columns"] == 42
