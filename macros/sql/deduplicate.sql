{#-
    deduplicate(relation, partition_by, order_by)

    A select statement with one row of `relation` per `partition_by`: the first by `order_by`,
    with exactly the columns of `relation` (no helper column leaks into a `select *` after it):

        orders as (
            {{ martsmith.deduplicate(
                ref('stg_orders'), partition_by='order_id', order_by='updated_at desc nulls last'
            ) }}
        )

    partition_by and order_by are SQL (comma-separated columns; order_by may say asc/desc and
    nulls first/last: spell the null order out, the adapters' defaults differ). Ties on order_by
    keep any one of the tied rows. Same arguments as dbt_utils.deduplicate.

    DuckDB filters with `qualify`; PostgreSQL keeps the first row with `distinct on`; the default
    version numbers the rows in a subquery and selects the relation's own columns by name
    (adapter.get_columns_in_relation), which needs the relation to exist when the model compiles.
    In a dbt unit test the relation is the CTE of the given rows, which no warehouse holds: its
    columns come from the test's `overrides: vars: martsmith_fixture_columns` ({CTE name: [column,
    ...]}), which `martsmith unit-test` writes.
-#}
{%- macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate', 'martsmith')(relation, partition_by, order_by)) }}
{%- endmacro -%}

{%- macro default__deduplicate(relation, partition_by, order_by) -%}
    {%- set given = execute and relation.type == 'cte' -%}
    {%- if given -%}
        {%- set columns = var('martsmith_fixture_columns', {}).get(relation.identifier, []) -%}
    {%- else -%}
        {%- set found = adapter.get_columns_in_relation(relation) if execute else [] -%}
        {%- set columns = found | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if execute and columns | length == 0 and given -%}
        {{ exceptions.raise_compiler_error(
            "martsmith.deduplicate: no columns for " ~ relation ~ ", the given rows of a unit test "
            ~ "(the default implementation reads them from the test's overrides: vars: "
            ~ "martsmith_fixture_columns: {" ~ relation ~ ": [column, ...]}, as martsmith unit-test writes)."
        ) }}
    {%- elif execute and columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "martsmith.deduplicate: no columns found for " ~ relation
            ~ " (the default implementation reads them from the warehouse: build it first)."
        ) }}
    {%- endif -%}
select
    {%- if columns %}
    {%- for column in columns %}
    ranked.{{ adapter.quote(column) }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    {%- else %} *
    {%- endif %}
from (
    select
        numbered.*,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _martsmith_row
    from {{ relation }} as numbered
) as ranked
where ranked._martsmith_row = 1
{%- endmacro -%}

{%- macro duckdb__deduplicate(relation, partition_by, order_by) -%}
select * from {{ relation }}
qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro -%}

{%- macro postgres__deduplicate(relation, partition_by, order_by) -%}
select distinct on ({{ partition_by }}) * from {{ relation }}
order by {{ partition_by }}, {{ order_by }}
{%- endmacro -%}
