with customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('stg_orders') }}

),

customer_orders as (

    select
        customer_id,
        min(order_date) as first_order,
        count(order_id) as number_of_orders
    from orders
    group by customer_id

)

select
    customers.customer_id,
    customers.first_name,
    customers.city,
    customer_orders.first_order,
    coalesce(customer_orders.number_of_orders, 0) as number_of_orders
from customers
left join customer_orders
    on customers.customer_id = customer_orders.customer_id
