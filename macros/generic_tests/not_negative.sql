{#-
    Fails for each row whose column is below zero. Zero and nulls pass: pair with not_null.

        data_tests:
          - martsmith.not_negative
-#}
{% test not_negative(model, column_name) %}
    {{ return(adapter.dispatch('test_not_negative', 'martsmith')(model, column_name)) }}
{% endtest %}

{% macro default__test_not_negative(model, column_name) %}
with validation_errors as (
    select *
    from {{ model }}
    -- a negative value is the only failure; null < 0 is not true, so nulls pass
    where {{ column_name }} < 0
)

select *
from validation_errors
{% endmacro %}
