"""The write-time Jinja allowlist, the Jinja-safe writer and the typed spec fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from martsmith.render.jinja_safe import data_problem, inert
from martsmith.render.properties import render_properties
from martsmith.scaffold.package import package_path
from martsmith.spec import InputSpec, MeasureSpec, ModelSpec, TestSpec
from martsmith.star.spec import DateDimension, StagedColumn
from martsmith.validate.jinja_allowlist import (
    MARTSMITH_MACROS,
    check_file_jinja,
    check_sql_jinja,
    check_yaml_jinja,
)


def messages(findings) -> list[str]:
    return [f.message for f in findings]


def test_the_allowlist_names_every_public_macro_of_the_package():
    shipped = set()
    for path in (package_path() / "macros").rglob("*.sql"):
        if "generic_tests" in path.parts:
            continue
        shipped |= {
            m
            for m in re.findall(r"\{%-?\s*macro\s+(\w+)\s*\(", path.read_text())
            if not m.startswith(("_", "default__", "duckdb__", "postgres__", "spark__"))
        }
    assert shipped == MARTSMITH_MACROS


@pytest.mark.parametrize(
    "sql",
    [
        "select * from {{ ref('orders') }}",
        "select * from {{ source('shop', 'orders') }}",
        "select {{ martsmith.surrogate_key(['orders.status', 'orders.day']) }} as k from x",
        "select cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as m from x",
        "{{ config(materialized='table') }} select 1 as x",
        "{# a comment #} select 1 as x",
        # a relation argument: a literal ref()/source(), as martsmith.deduplicate takes it
        "{{ martsmith.deduplicate(ref('stg_orders'), partition_by='id', order_by='at desc nulls last') }}",
        "{{ martsmith.deduplicate(\n    source('shop', 'orders'), partition_by='id', order_by='id'\n) }}",
        "select {{ martsmith.day_name('days.date_day') }} as day_name from days",
    ],
)
def test_allowed_sql(sql: str):
    assert check_sql_jinja(sql) == []


@pytest.mark.parametrize(
    "sql, why",
    [
        ("{{ run_query('drop schema raw cascade') }}", "run_query(...) is not allowed"),
        ("{{ dbt.run_query('drop schema raw cascade') }}", "dbt.run_query(...) is not allowed"),
        (
            "{{ martsmith.surrogate_key(['status'] if config(post_hook='drop schema raw') is none else ['s']) }}",
            "not a literal",
        ),
        ("{{ config(post_hook='drop schema raw cascade') }} select 1", "config(post_hook=...)"),
        ("{{ config(pre_hook=['insert into raw.orders select * from raw.orders']) }} select 1", "config(pre_hook=...)"),
        ("{% if execute %}{% do run_query('x') %}{% endif %} select 1", "{% if %} blocks"),
        ("{% set x = run_query('x') %} select 1", "{% assign %} blocks"),
        ("select {{ env_var('HOME') }} as x", "env_var(...) is not allowed"),
        ("select {{ var('x') }} as x", "var(...) is not allowed"),
        ("select {{ 'a' ~ 'b' }} as x", "Concat is not allowed"),
        ("select {{ ref('a') | upper }} as x", "Filter is not allowed"),
        ("select * from {{ ref(model_name) }}", "not a literal"),
        ("select {{ ref('a').render() }}", "is not allowed"),
        ("select {{ x", "does not parse"),
        ("{{ martsmith.deduplicate(run_query('x'), 'id', 'id') }}", "not a literal"),
        ("{{ martsmith.deduplicate(ref(model_name), 'id', 'id') }}", "not a literal"),
        ("{{ martsmith.deduplicate(ref('m', v=1), 'id', 'id') }}", "not a literal"),
        ("{{ martsmith.deduplicate(ref('m'), partition_by=var('k'), order_by='id') }}", "not a literal"),
        ("select {{ dbt.date_trunc('day', ref('m')) }} as d", "not a literal"),  # only martsmith's take relations
    ],
)
def test_refused_sql(sql: str, why: str):
    found = messages(check_sql_jinja(sql, "models/m.sql"))
    assert found and any(why in m for m in found), found


def test_yaml_strings_with_templates_are_refused_unless_the_host_wrote_them():
    host = "models:\n  - name: m\n    description: '{{ doc(\"m\") }}'\n"
    ours = host + "  - name: n\n    description: '{{ run_query(\"drop schema raw\") }}'\n"
    assert check_yaml_jinja(host, before=host) == []
    found = messages(check_yaml_jinja(ours, before=host))
    assert len(found) == 1 and "run_query" in found[0]


def test_yaml_call_like_test_arguments_are_refused():
    text = (
        "models:\n  - name: m\n    columns:\n      - name: s\n        data_tests:\n"
        "          - accepted_values:\n              arguments:\n                values: [\"env_var('HOME')\"]\n"
        "          - relationships:\n              arguments:\n                to: ref('customers')\n"
        "                field: id\n"
    )
    found = messages(check_yaml_jinja(text))
    assert len(found) == 1 and "env_var('HOME')" in found[0]
    # the same words in a description are prose, not a test argument
    assert check_yaml_jinja("models:\n  - name: m\n    description: \"ref('x') (see there)\"\n") == []


def test_other_files_carry_no_template():
    assert check_file_jinja("models/marts/sales/_erd.md", "# ERD\n    dim {\n    }o--||\n") == []
    assert messages(check_file_jinja("models/x.md", "{% docs x %}{{ run_query('x') }}{% enddocs %}"))


def test_inert_prose_keeps_the_words_and_breaks_every_tag():
    for text in ["{{ x }}", "{%- if x -%}", "{# c #}", "{{{ x }}}", "a {{b}} {%c%}"]:
        out = inert(text)
        assert not re.search(r"\{[{%#]", out) and out.replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    "value",
    [
        "{{ x }}",
        "{% x %}",
        "{#",
        "env_var('HOME')",
        " ref('x') ",
        "source('a','b')",
        "var('x') ~ run_query('select 1')",
        "doc('x')",
    ],
)
def test_data_values_dbt_would_run(value: str):
    assert data_problem(value)


@pytest.mark.parametrize("value", ["completed", "Gift card", "a } b", "100%", "{x}", "reference(x)", "{ {x} }"])
def test_ordinary_data_values(value: str):
    assert data_problem(value) is None


def _spec(**changes) -> dict:
    base = dict(
        name="n",
        description="One row.",
        request="r",
        planner="llm",
        inputs=[InputSpec(alias="orders", kind="source", source_name="shop", table="orders")],
        measures=[MeasureSpec(name="order_count", agg="count", input="orders")],
    )
    return {**base, **changes}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"grain": ["status'] if config(post_hook='drop schema raw') is none else ['status"]}, "grain"),
        ({"surrogate_key": "k') }} {{ run_query('x') }}"}, "surrogate_key"),
        (
            {"measures": [{"name": "n", "agg": "sum", "input": "orders", "column": "amount) from raw.orders --"}]},
            "column",
        ),
        ({"columns": [{"name": "x", "data_type": "varchar) as y from raw.orders --"}]}, "data_type"),
        (
            {"filters": [{"input": "orders", "column": "status", "op": "=", "values": ["{{ run_query('x') }}"]}]},
            "filter value",
        ),
        (
            {"tests": [{"name": "accepted_values", "column": "s", "arguments": {"values": ["{{ run_query('x') }}"]}}]},
            "template",
        ),
        (
            {
                "tests": [
                    {
                        "name": "martsmith.expression_is_true",
                        "arguments": {"expression": "length(read_text('/etc/passwd')) > 0"},
                    }
                ]
            },
            "read_text",
        ),
        (
            {
                "tests": [
                    {
                        "name": "martsmith.accepted_range",
                        "column": "a",
                        "arguments": {"min_value": "(select max(x) from t)"},
                    }
                ]
            },
            "subquery",
        ),
        (
            {
                "tests": [
                    {
                        "name": "relationships",
                        "column": "a",
                        "arguments": {"to": "ref('x') ~ run_query('y')", "field": "id"},
                    }
                ]
            },
            "ref('model')",
        ),
        ({"tests": [{"name": "dbt_utils.expression_is_true", "arguments": {}}]}, "not a test martsmith writes"),
        (
            {"tests": [{"name": "unique", "column": "a", "arguments": {"config": {"post_hook": "x"}}}]},
            "not an argument",
        ),
    ],
)
def test_hostile_spec_fields_are_refused(changes: dict, field: str):
    with pytest.raises(ValidationError) as info:
        ModelSpec(**_spec(**changes))
    assert field in str(info.value)


def test_star_fields_are_typed():
    with pytest.raises(ValidationError, match="date dimension name"):
        DateDimension(name="../../../macros/pwned_macro", start_date="2024-01-01", end_date="2025-01-01")
    with pytest.raises(ValidationError, match="data_type"):
        StagedColumn(name="x", source_column="x", data_type="integer) as x, (select 1")


def test_rendered_properties_are_inert_and_pass_the_allowlist(tmp_path: Path):
    spec = ModelSpec(
        **_spec(
            description="Orders {{ run_query('drop schema raw') }}.",
            request="count {% if x %} orders",
            tests=[TestSpec(name="accepted_values", column="status", arguments={"values": ["a", "b"]})],
        )
    )
    yml = render_properties(spec)
    assert "{ { run_query" in yml and "{ % if x %}" in yml
    assert check_file_jinja("models/marts/n.yml", yml) == []
