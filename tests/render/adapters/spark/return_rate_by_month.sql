with

orders as (

    select * from adapters.stg_orders

),

aggregated as (

    select
        cast(date_trunc('month', orders.ordered_at) as date) as order_month,
        count(*) as order_count,
        count(case when orders.status = 'returned' then 1 end) as returned_order_count,
        sum(case when orders.status in ('returned', 'Returned') then orders.amount end)
            as returned_amount,
        sum(orders.amount) as total_amount
    from orders
    group by 1

),

computed as (

    select
        order_month,
        order_count,
        returned_order_count,
        returned_amount,
        total_amount,
        100.0 * returned_order_count / nullif(order_count, 0) as return_rate_pct,
        1.0 * returned_amount / nullif(total_amount, 0) as returned_amount_share
    from aggregated

),

final as (

    select
        order_month,
        order_count,
        returned_order_count,
        returned_amount,
        total_amount,
        return_rate_pct,
        returned_amount_share
    from computed
    order by 1 asc

)

select * from final