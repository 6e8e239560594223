{#-
    date_spine(start_date, end_date)

    A select statement with one row per day, column `date_day` (type date), from start_date
    (inclusive) to end_date (exclusive), like dbt_utils.date_spine(datepart='day'):

        with days as (
            {{ martsmith.date_spine('2024-01-01', '2025-01-01') }}
        )
        select date_day from days            -- 366 rows: 2024-01-01 .. 2024-12-31

    Each bound is either an ISO date string 'YYYY-MM-DD' (quoted for you) or a SQL expression
    that yields a date, e.g. "current_date" or "cast('2024-01-01' as date)". No rows when
    end_date <= start_date.

    The default version is portable SQL (cross-joined digits, up to 100,000 days ≈ 273 years);
    DuckDB uses its range() table function, with no upper limit.
-#}
{%- macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'martsmith')(start_date, end_date)) }}
{%- endmacro -%}

{%- macro default__date_spine(start_date, end_date) -%}
    {%- set start_day = martsmith._date_expression(start_date) -%}
    {%- set end_day = martsmith._date_expression(end_date) -%}
    {%- set n_digits = 5 -%}
with
digits as (
    {%- for digit in range(10) %}
    select {{ digit }} as digit{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

day_offsets as (
    -- 0 .. 10^{{ n_digits }} - 1: d<k> is the digit of place 10^k, one cross join per place
    select
        {%- for position in range(n_digits) %}
        d{{ position }}.digit * {{ 10 ** position }}{% if not loop.last %} +{% endif %}
        {%- endfor %} as day_offset
    from digits as d0
    {%- for position in range(1, n_digits) %}
    cross join digits as d{{ position }}
    {%- endfor %}
),

days as (
    select cast({{ dbt.dateadd('day', 'day_offset', start_day) }} as date) as date_day
    from day_offsets
)

select date_day
from days
-- inclusive start (offset 0), exclusive end
where date_day < {{ end_day }}
{%- endmacro -%}

{%- macro duckdb__date_spine(start_date, end_date) -%}
    {%- set start_day = martsmith._date_expression(start_date) -%}
    {%- set end_day = martsmith._date_expression(end_date) -%}
-- range() excludes its stop value: inclusive start, exclusive end
select cast(days.day_start as date) as date_day
from range({{ start_day }}, {{ end_day }}, interval 1 day) as days (day_start)
{%- endmacro -%}

{#- An ISO date string becomes a date literal; anything else is taken as a SQL expression. -#}
{%- macro _date_expression(value) -%}
    {%- if value is string and modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{- return("cast('" ~ value ~ "' as date)") -}}
    {%- else -%}
        {{- return("cast(" ~ value ~ " as date)") -}}
    {%- endif -%}
{%- endmacro -%}
