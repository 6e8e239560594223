{#-
    Like dbt's `relationships`, restricted to the rows of the model that meet from_condition and
    the rows of `to` that meet to_condition. Fails for each child value with no parent.
    Null child values pass: pair with not_null.

        columns:
          - name: customer_id
            data_tests:
              - martsmith.relationships_where:
                  arguments:
                    to: ref('customers')
                    field: customer_id
                    from_condition: "amount_cents > 0"
                    to_condition: "is_active"
-#}
{% test relationships_where(
    model, column_name, to, field, from_condition='1=1', to_condition='1=1'
) %}
    {{ return(adapter.dispatch('test_relationships_where', 'martsmith')(
        model, column_name, to, field, from_condition, to_condition
    )) }}
{% endtest %}

{% macro default__test_relationships_where(
    model, column_name, to, field, from_condition, to_condition
) %}
with left_table as (
    select {{ column_name }} as child_value
    from {{ model }}
    where
        -- null foreign keys are not orphans: not_null checks them
        {{ column_name }} is not null
        -- only the child rows the relationship applies to
        and ({{ from_condition }})
),

right_table as (
    select {{ field }} as parent_value
    from {{ to }}
    where
        {{ field }} is not null
        -- only the parent rows that may be referenced
        and ({{ to_condition }})
),

validation_errors as (
    select left_table.child_value
    from left_table
    left join right_table
        on left_table.child_value = right_table.parent_value
    -- no matching parent
    where right_table.parent_value is null
)

select *
from validation_errors
{% endmacro %}
