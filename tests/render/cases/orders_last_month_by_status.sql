with

orders as (

    select * from {{ source('shop', 'orders') }}

),

aggregated as (

    select
        orders.status,
        count(*) as order_count
    from orders
    where
        cast(orders.ordered_at as date) >= {{ dbt.dateadd('month', -1, "cast(date_trunc('month', current_date) as date)") }}
        and cast(orders.ordered_at as date) < cast(date_trunc('month', current_date) as date)
    group by 1

),

final as (

    select
        {{ martsmith.surrogate_key(['status']) }} as orders_last_month_by_status_key,
        status,
        order_count
    from aggregated

)

select * from final
