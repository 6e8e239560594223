WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_orders`
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ordered_at DESC) = 1
), selected AS (
  SELECT
    orders.customer_id,
    orders.order_id,
    orders.ordered_at,
    orders.status
  FROM orders
), final AS (
  SELECT
    customer_id,
    order_id,
    ordered_at,
    status
  FROM selected
)
SELECT
  *
FROM final
