WITH orders AS (
  SELECT
    *
  FROM "adapters"."main"."shop_orders"
), customers AS (
  SELECT
    *
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) AS _w
    FROM "adapters"."main"."shop_customers"
  ) AS _t
  WHERE
    _w = 1
), aggregated AS (
  SELECT
    customers.country AS customer_country,
    CAST(DATE_TRUNC('MONTH', orders.ordered_at) AS DATE) AS order_month,
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
    LOWER(
      TO_HEX(
        MD5(
          TO_UTF8(
            CAST(CONCAT(
              CAST(COALESCE(CAST(customer_country AS VARCHAR), '_martsmith_null_') AS VARCHAR),
              CAST('-' AS VARCHAR),
              CAST(COALESCE(CAST(order_month AS VARCHAR), '_martsmith_null_') AS VARCHAR)
            ) AS VARCHAR)
          )
        )
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
