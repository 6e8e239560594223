with

products as (

    select * from adapters.stg_products

),

order_items as (

    select * from adapters.stg_order_items

),

selected as (

    select
        products.product_id,
        products.name as product_name
    from products
    where
        products.is_active = true
        and not exists (
            select order_items.product_id
            from order_items
            where
                order_items.product_id = products.product_id
                and order_items.quantity > 0
        )

),

final as (

    select
        product_id,
        product_name
    from selected

)

select * from final