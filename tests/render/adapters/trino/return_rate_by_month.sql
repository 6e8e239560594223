WITH orders AS (
  SELECT
    *
  FROM "adapters"."main"."stg_orders"
), aggregated AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS DATE) AS order_month,
    COUNT(*) AS order_count,
    COUNT(CASE WHEN orders.status = 'returned' THEN 1 END) AS returned_order_count,
    SUM(CASE WHEN orders.status IN ('returned', 'Returned') THEN orders.amount END) AS returned_amount,
    SUM(orders.amount) AS total_amount
  FROM orders
  GROUP BY
    1
), computed AS (
  SELECT
    order_month,
    order_count,
    returned_order_count,
    returned_amount,
    total_amount,
    CAST(100.0 * returned_order_count AS DOUBLE) / NULLIF(order_count, 0) AS return_rate_pct,
    CAST(1.0 * returned_amount AS DOUBLE) / NULLIF(total_amount, 0) AS returned_amount_share
  FROM aggregated
), final AS (
  SELECT
    order_month,
    order_count,
    returned_order_count,
    returned_amount,
    total_amount,
    return_rate_pct,
    returned_amount_share
  FROM computed
  ORDER BY
    1 ASC
)
SELECT
  *
FROM final
