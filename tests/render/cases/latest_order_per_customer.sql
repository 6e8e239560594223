with

orders as (

    {{ martsmith.deduplicate(
        ref('stg_orders'), partition_by='customer_id', order_by='ordered_at desc nulls last'
    ) }}

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
