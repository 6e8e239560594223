with

products as (

    select * from {{ ref('stg_shop__products') }}

),

dim_category as (

    select * from {{ ref('dim_category') }}

),

final as (

    select
        {{ martsmith.surrogate_key(['products.product_id']) }} as product_key,
        products.product_id,
        products.product_name,
        coalesce(
            dim_category.category_key, {{ martsmith.surrogate_key(['null']) }}
        ) as category_key,
        products.price
    from products
    left join dim_category
        on products.category = dim_category.category
    where products.product_id is not null

    union all

    -- the unknown member: facts point here when the product is missing
    select
        {{ martsmith.surrogate_key(['null']) }} as product_key,
        cast(null as integer) as product_id,
        cast(null as {{ dbt.type_string() }}) as product_name,
        {{ martsmith.surrogate_key(['null']) }} as category_key,
        cast(null as decimal(10, 2)) as price

)

select * from final
