with

orders as (

    select * from "adapters"."main"."stg_orders"
qualify row_number() over (partition by customer_id order by ordered_at desc nulls last) = 1

),

selected as (

    select
        orders.customer_id,
        orders.order_id,
        orders.ordered_at,
        orders.status
    from orders

),

final as (

    select
        customer_id,
        order_id,
        ordered_at,
        status
    from selected

)

select * from final