with

customers as (

    select * from adapters.stg_customers

),

orders as (

    select * from adapters.stg_orders

),

selected as (

    select
        customers.customer_id,
        customers.email
    from customers
    where
        exists (
            select orders.customer_id
            from orders
            where
                orders.customer_id = customers.customer_id
                and orders.status = 'returned'
        )

),

final as (

    select
        customer_id,
        email
    from selected

)

select * from final