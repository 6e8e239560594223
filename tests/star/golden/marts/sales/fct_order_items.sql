with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

dim_product as (

    select * from {{ ref('dim_product') }}

),

dim_customer as (

    select * from {{ ref('dim_customer') }}

),

joined as (

    select
        order_items.order_item_id,
        order_items.order_id,
        orders.status as order_status,
        coalesce({{ martsmith.date_key('orders.ordered_at') }}, -1) as order_date_key,
        coalesce({{ martsmith.date_key('orders.shipped_at') }}, -1) as ship_date_key,
        coalesce(dim_product.product_key, {{ martsmith.surrogate_key(['null']) }}) as product_key,
        coalesce(
            dim_customer.customer_key, {{ martsmith.surrogate_key(['null']) }}
        ) as customer_key,
        order_items.quantity,
        order_items.unit_price,
        order_items.discount
    from order_items
    left join orders
        on order_items.order_id = orders.order_id
    left join dim_product
        on order_items.product_id = dim_product.product_id
    left join dim_customer
        on orders.customer_id = dim_customer.customer_id

),

final as (

    select
        {{ martsmith.surrogate_key(['joined.order_item_id']) }} as order_item_key,
        joined.*
    from joined

)

select * from final
