{#-
    Fails for each row where the SQL expression is false. Rows where it is null pass, as in
    dbt_utils and the other martsmith tests: test nullable columns with not_null too.
    On a model: the expression is complete.

        data_tests:
          - martsmith.expression_is_true:
              arguments:
                expression: "amount_cents = quantity * unit_price_cents"

    On a column: the expression is appended to the column name.

        columns:
          - name: amount_cents
            data_tests:
              - martsmith.expression_is_true:
                  arguments:
                    expression: ">= 0"
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    {{ return(adapter.dispatch('test_expression_is_true', 'martsmith')(
        model, expression, column_name
    )) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression, column_name) %}
with meet_condition as (
    select *
    from {{ model }}
),

validation_errors as (
    select *
    from meet_condition
    {%- if column_name is none %}
    -- the expression is the whole condition; keep the rows where it is false
    where not ({{ expression }})
    {%- else %}
    -- column-level: the expression continues the column, e.g. `amount >= 0`
    where not ({{ column_name }} {{ expression }})
    {%- endif %}
)

select *
from validation_errors
{% endmacro %}
