with

orders as (

    select
    ranked.`order_id`,
    ranked.`customer_id`,
    ranked.`status`,
    ranked.`ordered_at`,
    ranked.`amount`
from (
    select
        numbered.*,
        row_number() over (partition by customer_id order by ordered_at desc nulls last) as _martsmith_row
    from adapters.stg_orders as numbered
) as ranked
where ranked._martsmith_row = 1

),

selected as (

    select
        orders.customer_id,
        orders.order_id,
        orders.ordered_at,
        orders.status
    from orders

),

final as (

    select
        customer_id,
        order_id,
        ordered_at,
        status
    from selected

)

select * from final