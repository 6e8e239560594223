{#-
    Fails for each distinct value of `field` in the relation `to` that is not one of `values`.
    A model-level test that reads `to`, not the model it is attached to: a pivot model (one
    column per value, the values read at plan time) carries it on the column it pivots, so a new
    value fails the build instead of silently falling out of every pivoted column.
    Null values pass, as with accepted_values: pair with not_null.

        data_tests:
          - martsmith.values_in:
              arguments:
                to: source('shop', 'orders')
                field: status
                values: ['placed', 'shipped', 'completed']
-#}
{% test values_in(model, to, field, values) %}
    {{ return(adapter.dispatch('test_values_in', 'martsmith')(model, to, field, values)) }}
{% endtest %}

{% macro default__test_values_in(model, to, field, values) %}
with present_values as (
    select distinct {{ field }} as value_field
    from {{ to }}
    -- null is not a value: not_null checks it
    where {{ field }} is not null
),

validation_errors as (
    select value_field
    from present_values
    -- a value with no pivoted column of its own
    where value_field not in (
        {%- for value in values %}
        {% if value is string -%}
            '{{ value | replace("'", "''") }}'
        {%- else -%}
            {{ value }}
        {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
    )
)

select *
from validation_errors
{% endmacro %}
