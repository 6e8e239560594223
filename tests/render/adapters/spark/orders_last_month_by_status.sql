with

orders as (

    select * from adapters.shop_orders

),

aggregated as (

    select
        orders.status,
        count(*) as order_count
    from orders
    where
        cast(orders.ordered_at as date) >= to_timestamp(
            to_unix_timestamp(
                add_months(
                    

    coalesce(date(cast(date_trunc('month', current_date) as date)), nvl2(date(cast(date_trunc('month', current_date) as date)), assert_true(date(cast(date_trunc('month', current_date) as date)) is not null), null))

,
                    cast(-1 * 1 as int)
                )
            ) + 
        to_unix_timestamp(

    coalesce(to_timestamp(cast(date_trunc('month', current_date) as date)), nvl2(to_timestamp(cast(date_trunc('month', current_date) as date)), assert_true(to_timestamp(cast(date_trunc('month', current_date) as date)) is not null), null))

)
        - to_unix_timestamp(

    coalesce(date(cast(date_trunc('month', current_date) as date)), nvl2(date(cast(date_trunc('month', current_date) as date)), assert_true(date(cast(date_trunc('month', current_date) as date)) is not null), null))

)
        )
        and cast(orders.ordered_at as date) < cast(date_trunc('month', current_date) as date)
    group by 1

),

final as (

    select
        md5(cast(concat(coalesce(cast(status as string), '_martsmith_null_')) as string)) as orders_last_month_by_status_key,
        status,
        order_count
    from aggregated

)

select * from final