with

products as (

    select * from {{ ref('stg_shop__products') }}

),

category_values as (

    select distinct products.category
    from products
    where products.category is not null

),

final as (

    select
        {{ martsmith.surrogate_key(['category_values.category']) }} as category_key,
        category_values.category
    from category_values

    union all

    -- the unknown member: facts point here when the category is missing
    select
        {{ martsmith.surrogate_key(['null']) }} as category_key,
        cast(null as {{ dbt.type_string() }}) as category

)

select * from final
