WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_orders`
), aggregated AS (
  SELECT
    orders.customer_id,
    COUNT(*) AS order_count,
    SUM(orders.amount) AS total_amount
  FROM orders
  GROUP BY
    1
), final AS (
  SELECT
    customer_id,
    order_count,
    total_amount
  FROM aggregated
  WHERE
    order_count > 5 AND total_amount >= 100
)
SELECT
  *
FROM final
