with

orders as (

    select * from adapters.stg_orders

),

aggregated as (

    select
        cast(date_trunc('month', orders.ordered_at) as date) as order_month,
        sum(orders.amount) as revenue
    from orders
    group by 1

),

windowed as (

    select
        order_month,
        revenue,
        sum(revenue) over (order by order_month rows between unbounded preceding and current row)
            as running_revenue,
        avg(revenue) over (order by order_month rows between 2 preceding and current row)
            as revenue_3_month_average,
        lag(revenue, 1) over (order by order_month) as previous_month_revenue,
        lead(revenue, 1) over (order by order_month) as next_month_revenue,
        revenue - lag(revenue, 1) over (order by order_month) as revenue_change,
        100.0
        * (revenue - lag(revenue, 1) over (order by order_month))
        / nullif(lag(revenue, 1) over (order by order_month), 0) as revenue_change_pct
    from aggregated

),

final as (

    select
        order_month,
        revenue,
        running_revenue,
        revenue_3_month_average,
        previous_month_revenue,
        next_month_revenue,
        revenue_change,
        revenue_change_pct
    from windowed
    order by 1 asc

)

select * from final