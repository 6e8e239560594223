with

source as (

    select * from {{ source('shop', 'order_items') }}

),

renamed as (

    select
        id as order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        discount
    from source

)

select * from renamed
