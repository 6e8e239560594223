{#-
    Fails for each row whose column lies outside [min_value, max_value] (or the open interval
    when inclusive=false). Give min_value, max_value or both. Nulls pass: pair with not_null.

        data_tests:
          - martsmith.accepted_range:
              arguments:
                min_value: 0
                max_value: 100
                inclusive: true
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {{ return(adapter.dispatch('test_accepted_range', 'martsmith')(
        model, column_name, min_value, max_value, inclusive
    )) }}
{% endtest %}

{% macro default__test_accepted_range(model, column_name, min_value, max_value, inclusive) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        "martsmith.accepted_range on " ~ model ~ "." ~ column_name
        ~ " needs min_value, max_value or both under `arguments:`."
    ) }}
{%- endif -%}

with meet_condition as (
    select *
    from {{ model }}
),

validation_errors as (
    select *
    from meet_condition
    where
        -- never true: the base of the `or` chain below, so any bound can be left out
        1 = 2
    {%- if min_value is not none %}
        -- rows at or above min_value (strictly above when not inclusive) are permitted;
        -- `not` keeps those that are not
        or not {{ column_name }} >{{ "=" if inclusive }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
        -- rows at or below max_value (strictly below when not inclusive) are permitted;
        -- `not` keeps those that are not
        or not {{ column_name }} <{{ "=" if inclusive }} {{ max_value }}
    {%- endif %}
)

select *
from validation_errors
{% endmacro %}
