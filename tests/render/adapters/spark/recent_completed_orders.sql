with

orders as (

    select * from adapters.stg_orders

),

selected as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.amount
    from orders
    where
        orders.status = 'completed'

),

final as (

    select
        order_id,
        customer_id,
        ordered_at,
        amount
    from selected
    order by 3 desc nulls last
    limit 20

)

select * from final