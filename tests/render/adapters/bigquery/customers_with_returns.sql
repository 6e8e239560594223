WITH customers AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_customers`
), orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_orders`
), selected AS (
  SELECT
    customers.customer_id,
    customers.email
  FROM customers
  WHERE
    EXISTS(
      SELECT
        orders.customer_id
      FROM orders
      WHERE
        orders.customer_id = customers.customer_id AND orders.status = 'returned'
    )
), final AS (
  SELECT
    customer_id,
    email
  FROM selected
)
SELECT
  *
FROM final
