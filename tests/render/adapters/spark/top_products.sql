with

order_items as (

    select * from adapters.stg_order_items

),

products as (

    select * from adapters.stg_products

),

orders as (

    select * from adapters.stg_orders

),

aggregated as (

    select
        products.name as product_name,
        sum(order_items.quantity) as quantity_sold,
        count(distinct order_items.order_id) as order_count,
        count(*) as item_count
    from order_items
    left join products
        on order_items.product_id = products.product_id
    inner join orders
        on order_items.order_id = orders.order_id
    where
        cast(orders.ordered_at as date) between cast('2024-01-01' as date) and cast('2024-12-31' as date)
        and orders.status not in ('cancelled')
        and order_items.quantity > 0
        and products.is_active = true
        and products.name is not null
    group by 1

),

final as (

    select
        md5(cast(concat(coalesce(cast(product_name as string), '_martsmith_null_')) as string)) as top_products_key,
        product_name,
        quantity_sold,
        order_count,
        item_count
    from aggregated
    order by 3 desc nulls last
    limit 5

)

select * from final