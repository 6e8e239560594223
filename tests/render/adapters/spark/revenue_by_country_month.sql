with

orders as (

    select * from adapters.shop_orders

),

customers as (

    select
    ranked.`id`,
    ranked.`email`,
    ranked.`country`,
    ranked.`updated_at`
from (
    select
        numbered.*,
        row_number() over (partition by id order by updated_at desc nulls last) as _martsmith_row
    from adapters.shop_customers as numbered
) as ranked
where ranked._martsmith_row = 1

),

aggregated as (

    select
        customers.country as customer_country,
        cast(date_trunc('month', orders.ordered_at) as date) as order_month,
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
        md5(cast(concat(coalesce(cast(customer_country as string), '_martsmith_null_'), '-', coalesce(cast(order_month as string), '_martsmith_null_')) as string))
            as revenue_by_country_month_key,
        customer_country,
        order_month,
        total_revenue
    from aggregated

)

select * from final