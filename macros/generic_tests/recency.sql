{#-
    Fails (one row) when the newest value of `field` is older than `interval` `datepart`s before
    now, or when there is no value at all (empty model or all nulls).

        data_tests:
          - martsmith.recency:
              arguments:
                field: ordered_at
                datepart: day
                interval: 1
-#}
{% test recency(model, field, datepart, interval) %}
    {{ return(adapter.dispatch('test_recency', 'martsmith')(model, field, datepart, interval)) }}
{% endtest %}

{% macro default__test_recency(model, field, datepart, interval) %}
{%- set threshold = dbt.dateadd(datepart, interval * -1, dbt.current_timestamp()) -%}

with recency as (
    select max({{ field }}) as most_recent
    from {{ model }}
),

validation_errors as (
    select
        most_recent,
        {{ threshold }} as threshold
    from recency
    where
        -- the newest value is older than the threshold
        most_recent < {{ threshold }}
        -- or there is no value to be recent at all
        or most_recent is null
)

select *
from validation_errors
{% endmacro %}
