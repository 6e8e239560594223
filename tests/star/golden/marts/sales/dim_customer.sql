with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

final as (

    select
        {{ martsmith.surrogate_key(['customers.customer_id']) }} as customer_key,
        customers.customer_id,
        customers.first_name,
        customers.country,
        customers.created_at
    from customers
    where customers.customer_id is not null

    union all

    -- the unknown member: facts point here when the customer is missing
    select
        {{ martsmith.surrogate_key(['null']) }} as customer_key,
        cast(null as integer) as customer_id,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as timestamp) as created_at

)

select * from final
