with

customers as (

    select * from adapters.stg_customers

),

selected as (

    select distinct
        customers.country,
        customers.city
    from customers

),

final as (

    select
        country,
        city
    from selected
    order by 1 asc, 2 asc

)

select * from final