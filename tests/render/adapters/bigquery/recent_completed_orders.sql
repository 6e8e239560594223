WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_orders`
), selected AS (
  SELECT
    orders.order_id,
    orders.customer_id,
    orders.ordered_at,
    orders.amount
  FROM orders
  WHERE
    orders.status = 'completed'
), final AS (
  SELECT
    order_id,
    customer_id,
    ordered_at,
    amount
  FROM selected
  ORDER BY
    3 DESC
  LIMIT 20
)
SELECT
  *
FROM final
