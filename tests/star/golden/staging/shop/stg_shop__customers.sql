with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        lower(trim(country)) as country,
        created_at,
        updated_at
    from source
    -- several rows per id (late-arriving updates): keep the latest
    qualify row_number() over (partition by id order by updated_at desc) = 1

)

select * from renamed
