WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_orders`
), aggregated AS (
  SELECT
    CAST(TIMESTAMP_TRUNC(orders.ordered_at, MONTH) AS DATE) AS order_month,
    COUNT(CASE WHEN orders.status = 'placed' THEN 1 END) AS order_count_placed,
    COUNT(CASE WHEN orders.status = 'shipped' THEN 1 END) AS order_count_shipped,
    COUNT(CASE WHEN orders.status = 'completed' THEN 1 END) AS order_count_completed,
    COUNT(CASE WHEN orders.status = 'returned' THEN 1 END) AS order_count_returned,
    COUNT(CASE WHEN orders.status = 'cancelled' THEN 1 END) AS order_count_cancelled,
    SUM(orders.amount) AS total_amount
  FROM orders
  GROUP BY
    1
), final AS (
  SELECT
    order_month,
    order_count_placed,
    order_count_shipped,
    order_count_completed,
    order_count_returned,
    order_count_cancelled,
    total_amount
  FROM aggregated
)
SELECT
  *
FROM final
