{#-
    Date parts and names that SQL dialects spell differently, for the star schema's date
    dimension and date keys. Each takes a SQL expression of type date (or timestamp):

        {{ martsmith.date_key('days.date_day') }} as date_key            -- 20250131, integer
        {{ martsmith.iso_day_of_week('days.date_day') }} as day_of_week  -- 1 = Monday .. 7 = Sunday
        {{ martsmith.day_name('days.date_day') }} as day_name            -- 'Monday'
        {{ martsmith.month_name('days.date_day') }} as month_name        -- 'January'
        {{ martsmith.date_part('year', 'days.date_day') }} as calendar_year  -- 2025, bigint

    Names are English whatever the warehouse's locale. The default versions are portable SQL
    (extract, mod, case and dbt.datediff); DuckDB and PostgreSQL use their own functions.
-#}

{#- A part of the date (year, quarter, month, week, day, ...) as a bigint on every adapter:
    `extract` gives a bigint on DuckDB but a numeric on PostgreSQL (double precision from
    date_part), so a column declared bigint would not be one there. -#}
{%- macro date_part(datepart, date) -%}
    {{ return(adapter.dispatch('date_part', 'martsmith')(datepart, date)) }}
{%- endmacro -%}

{%- macro default__date_part(datepart, date) -%}
    cast(extract({{ datepart }} from {{ date }}) as {{ dbt.type_bigint() }})
{%- endmacro -%}

{#- The date as the integer yyyymmdd (null for a null date). -#}
{%- macro date_key(date) -%}
    {{ return(adapter.dispatch('date_key', 'martsmith')(date)) }}
{%- endmacro -%}

{%- macro default__date_key(date) -%}
    cast(
        extract(year from {{ date }}) * 10000
        + extract(month from {{ date }}) * 100
        + extract(day from {{ date }})
        as {{ dbt.type_int() }}
    )
{%- endmacro -%}

{%- macro duckdb__date_key(date) -%}
    cast(strftime({{ date }}, '%Y%m%d') as integer)
{%- endmacro -%}

{%- macro postgres__date_key(date) -%}
    cast(to_char({{ date }}, 'YYYYMMDD') as integer)
{%- endmacro -%}

{#- The ISO day of the week: 1 = Monday ... 7 = Sunday. -#}
{%- macro iso_day_of_week(date) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'martsmith')(date)) }}
{%- endmacro -%}

{%- macro default__iso_day_of_week(date) -%}
    {#- 1900-01-01 was a Monday; the double mod keeps earlier dates in 0..6 as well -#}
    (mod(mod({{ dbt.datediff("cast('1900-01-01' as date)", date, 'day') }}, 7) + 7, 7) + 1)
{%- endmacro -%}

{%- macro duckdb__iso_day_of_week(date) -%}
    isodow({{ date }})
{%- endmacro -%}

{%- macro postgres__iso_day_of_week(date) -%}
    cast(extract(isodow from {{ date }}) as bigint)
{%- endmacro -%}

{#- The English name of the day: Monday ... Sunday. -#}
{%- macro day_name(date) -%}
    {{ return(adapter.dispatch('day_name', 'martsmith')(date)) }}
{%- endmacro -%}

{%- macro default__day_name(date) -%}
    {%- set names = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday',
        'Sunday'] -%}
    case {{ martsmith.iso_day_of_week(date) }}
    {%- for name in names %} when {{ loop.index }} then '{{ name }}'{% endfor %} end
{%- endmacro -%}

{%- macro duckdb__day_name(date) -%}
    dayname({{ date }})
{%- endmacro -%}

{%- macro postgres__day_name(date) -%}
    {#- FM: no padding to the longest name; without TM the names are English in any locale -#}
    to_char({{ date }}, 'FMDay')
{%- endmacro -%}

{#- The English name of the month: January ... December. -#}
{%- macro month_name(date) -%}
    {{ return(adapter.dispatch('month_name', 'martsmith')(date)) }}
{%- endmacro -%}

{%- macro default__month_name(date) -%}
    {%- set names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
        'September', 'October', 'November', 'December'] -%}
    case extract(month from {{ date }})
    {%- for name in names %} when {{ loop.index }} then '{{ name }}'{% endfor %} end
{%- endmacro -%}

{%- macro duckdb__month_name(date) -%}
    monthname({{ date }})
{%- endmacro -%}

{%- macro postgres__month_name(date) -%}
    to_char({{ date }}, 'FMMonth')
{%- endmacro -%}
