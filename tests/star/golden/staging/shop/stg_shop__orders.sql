with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        id as order_id,
        customer_id,
        lower(trim(status)) as status,
        ordered_at,
        shipped_at,
        amount,
        updated_at
    from source
    -- several rows per id (late-arriving updates): keep the latest
    qualify row_number() over (partition by id order by updated_at desc) = 1

)

select * from renamed
