with

orders as (

    select * from adapters.shop_orders

),

aggregated as (

    select count(*) as order_count
    from orders

),

final as (

    select order_count
    from aggregated

)

select * from final