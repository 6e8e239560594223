with

order_items as (

    select * from adapters.stg_order_items

),

products as (

    select * from adapters.stg_products

),

aggregated as (

    select
        products.category,
        sum(order_items.quantity * order_items.unit_price) as gross_revenue
    from order_items
    left join products
        on order_items.product_id = products.product_id
    group by 1

),

final as (

    select
        category,
        gross_revenue
    from aggregated
    order by 2 desc nulls last

)

select * from final