with

source as (

    {{ martsmith.deduplicate(
        source('shop', 'orders'), partition_by='id', order_by='updated_at desc nulls last'
    ) }}

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
    -- several rows per id (late-arriving updates): the source keeps the latest

)

select * from renamed
