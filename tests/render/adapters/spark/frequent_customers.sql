with

orders as (

    select * from adapters.stg_orders

),

aggregated as (

    select
        orders.customer_id,
        count(*) as order_count,
        sum(orders.amount) as total_amount
    from orders
    group by 1

),

final as (

    select
        customer_id,
        order_count,
        total_amount
    from aggregated
    where
        order_count > 5
        and total_amount >= 100

)

select * from final