with

days as (

    {{ martsmith.date_spine('2024-01-01', '2026-01-01') }}

),

final as (

    select
        {{ martsmith.date_key('days.date_day') }} as date_key,
        days.date_day,
        {{ martsmith.date_part('year', 'days.date_day') }} as calendar_year,
        {{ martsmith.date_part('quarter', 'days.date_day') }} as quarter_of_year,
        {{ martsmith.date_part('month', 'days.date_day') }} as month_of_year,
        {{ martsmith.month_name('days.date_day') }} as month_name,
        {{ martsmith.date_part('week', 'days.date_day') }} as week_of_year,
        {{ martsmith.date_part('day', 'days.date_day') }} as day_of_month,
        {{ martsmith.iso_day_of_week('days.date_day') }} as day_of_week,
        {{ martsmith.day_name('days.date_day') }} as day_name,
        {{ martsmith.iso_day_of_week('days.date_day') }} in (6, 7) as is_weekend
    from days

    union all

    -- the unknown date: facts point here when a date is missing
    select
        -1 as date_key,
        cast(null as date) as date_day,
        cast(null as bigint) as calendar_year,
        cast(null as bigint) as quarter_of_year,
        cast(null as bigint) as month_of_year,
        cast(null as {{ dbt.type_string() }}) as month_name,
        cast(null as bigint) as week_of_year,
        cast(null as bigint) as day_of_month,
        cast(null as bigint) as day_of_week,
        cast(null as {{ dbt.type_string() }}) as day_name,
        cast(null as boolean) as is_weekend

)

select * from final
