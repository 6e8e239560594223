{#-
    Fails for each combination of the columns that occurs on more than one row.

        data_tests:
          - martsmith.unique_combination_of_columns:
              arguments:
                combination_of_columns: [order_id, line_number]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns', 'martsmith')(
        model, combination_of_columns
    )) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns) %}
{%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "martsmith.unique_combination_of_columns on " ~ model
        ~ " needs combination_of_columns: a list of column names, e.g. [order_id, line_number]."
    ) }}
{%- endif -%}
{%- set column_list = combination_of_columns | join(', ') -%}

with validation_errors as (
    select
        {{ column_list }},
        count(*) as n_rows
    from {{ model }}
    group by {{ column_list }}
    -- a combination seen on more than one row is a duplicate
    having count(*) > 1
)

select *
from validation_errors
{% endmacro %}
