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
        products.name as product_name,
        sum(order_items.quantity) as units_sold
    from order_items
    left join products
        on order_items.product_id = products.product_id
    group by 1, 2

),

windowed as (

    select
        category,
        product_name,
        units_sold,
        rank() over (partition by category order by units_sold desc nulls last) as units_rank,
        dense_rank() over (partition by category order by units_sold desc nulls last)
            as units_dense_rank,
        row_number() over (partition by category order by units_sold desc nulls last)
            as units_row_number,
        1.0 * units_sold / nullif(sum(units_sold) over (partition by category), 0)
            as category_units_share
    from aggregated

),

final as (

    select
        md5(cast(concat(coalesce(cast(category as string), '_martsmith_null_'), '-', coalesce(cast(product_name as string), '_martsmith_null_')) as string)) as product_rank_in_category_key,
        category,
        product_name,
        units_sold,
        units_rank,
        units_dense_rank,
        units_row_number,
        category_units_share
    from windowed

)

select * from final