with

source as (

    {{ martsmith.deduplicate(
        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'
    ) }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        lower(trim(country)) as country,
        created_at,
        updated_at
    from source
    -- several rows per id (late-arriving updates): the source keeps the latest

)

select * from renamed
