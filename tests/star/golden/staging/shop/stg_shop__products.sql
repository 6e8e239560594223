with

source as (

    select * from {{ source('shop', 'products') }}

),

renamed as (

    select
        id as product_id,
        name as product_name,
        lower(trim(category)) as category,
        price
    from source

)

select * from renamed
