with

orders as (

    select * from "adapters"."public"."shop_orders"

),

aggregated as (

    select
        orders.status,
        count(*) as order_count
    from orders
    where
        cast(orders.ordered_at as date) >= 

    cast(date_trunc('month', current_date) as date) + ((interval '1 month') * (-1))


        and cast(orders.ordered_at as date) < cast(date_trunc('month', current_date) as date)
    group by 1

),

final as (

    select
        md5(cast(coalesce(cast(status as TEXT), '_martsmith_null_') as TEXT)) as orders_last_month_by_status_key,
        status,
        order_count
    from aggregated

)

select * from final