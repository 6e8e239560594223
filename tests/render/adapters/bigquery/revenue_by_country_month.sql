WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`shop_orders`
), customers AS (
  SELECT
    *
  FROM `adapters`.`main`.`shop_customers`
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1
), aggregated AS (
  SELECT
    customers.country AS customer_country,
    CAST(TIMESTAMP_TRUNC(orders.ordered_at, MONTH) AS DATE) AS order_month,
    SUM(orders.amount) AS total_revenue
  FROM orders
  LEFT JOIN customers
    ON orders.customer_id = customers.id
  WHERE
    orders.status IN ('completed', 'Completed')
  GROUP BY
    1,
    2
), final AS (
  SELECT
    TO_HEX(
      MD5(
        CAST(COALESCE(CAST(customer_country AS STRING), '_martsmith_null_') || '-' || COALESCE(CAST(order_month AS STRING), '_martsmith_null_') AS STRING)
      )
    ) AS revenue_by_country_month_key,
    customer_country,
    order_month,
    total_revenue
  FROM aggregated
)
SELECT
  *
FROM final
