with

orders as (

    select * from {{ source('shop', 'orders') }}

),

customers as (

    {{ martsmith.deduplicate(
        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'
    ) }}

),

aggregated as (

    select
        customers.country as customer_country,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as order_month,
        sum(orders.amount) as total_revenue
    from orders
    left join customers
        on orders.customer_id = customers.id
    where
        orders.status in ('completed', 'Completed')
    group by 1, 2

),

final as (

    select
        {{ martsmith.surrogate_key(['customer_country', 'order_month']) }}
            as revenue_by_country_month_key,
        customer_country,
        order_month,
        total_revenue
    from aggregated

)

select * from final
