with

orders as (

    select * from adapters.stg_orders

),

aggregated as (

    select
        cast(date_trunc('month', orders.ordered_at) as date) as order_month,
        count(case when orders.status = 'placed' then 1 end) as order_count_placed,
        count(case when orders.status = 'shipped' then 1 end) as order_count_shipped,
        count(case when orders.status = 'completed' then 1 end) as order_count_completed,
        count(case when orders.status = 'returned' then 1 end) as order_count_returned,
        count(case when orders.status = 'cancelled' then 1 end) as order_count_cancelled,
        sum(orders.amount) as total_amount
    from orders
    group by 1

),

final as (

    select
        order_month,
        order_count_placed,
        order_count_shipped,
        order_count_completed,
        order_count_returned,
        order_count_cancelled,
        total_amount
    from aggregated

)

select * from final