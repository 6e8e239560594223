{#-
    Fails (one row) when the model has no rows.

        data_tests:
          - martsmith.not_empty
-#}
{% test not_empty(model) %}
    {{ return(adapter.dispatch('test_not_empty', 'martsmith')(model)) }}
{% endtest %}

{% macro default__test_not_empty(model) %}
with row_count as (
    select count(*) as n_rows
    from {{ model }}
),

validation_errors as (
    select n_rows
    from row_count
    -- zero rows is the failure
    where n_rows = 0
)

select *
from validation_errors
{% endmacro %}
