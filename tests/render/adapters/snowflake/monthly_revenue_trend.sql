WITH orders AS (
  SELECT
    *
  FROM "adapters"."main"."stg_orders"
), aggregated AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS DATE) AS order_month,
    SUM(orders.amount) AS revenue
  FROM orders
  GROUP BY
    1
), windowed AS (
  SELECT
    order_month,
    revenue,
    SUM(revenue) OVER (ORDER BY order_month rows BETWEEN UNBOUNDED preceding AND CURRENT ROW) AS running_revenue,
    AVG(revenue) OVER (ORDER BY order_month rows BETWEEN 2 preceding AND CURRENT ROW) AS revenue_3_month_average,
    LAG(revenue, 1) OVER (ORDER BY order_month) AS previous_month_revenue,
    LEAD(revenue, 1) OVER (ORDER BY order_month) AS next_month_revenue,
    revenue - LAG(revenue, 1) OVER (ORDER BY order_month) AS revenue_change,
    100.0 * (
      revenue - LAG(revenue, 1) OVER (ORDER BY order_month)
    ) / NULLIF(LAG(revenue, 1) OVER (ORDER BY order_month), 0) AS revenue_change_pct
  FROM aggregated
), final AS (
  SELECT
    order_month,
    revenue,
    running_revenue,
    revenue_3_month_average,
    previous_month_revenue,
    next_month_revenue,
    revenue_change,
    revenue_change_pct
  FROM windowed
  ORDER BY
    1 ASC
)
SELECT
  *
FROM final
