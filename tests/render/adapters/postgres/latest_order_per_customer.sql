with

orders as (

    select distinct on (customer_id) * from "adapters"."public"."stg_orders"
order by customer_id, ordered_at desc nulls last

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