WITH orders AS (
  SELECT
    *
  FROM `adapters`.`main`.`shop_orders`
), aggregated AS (
  SELECT
    orders.status,
    COUNT(*) AS order_count
  FROM orders
  WHERE
    CAST(orders.ordered_at AS DATE) >= (
      CAST(TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) AS DATE) + CAST(-1 AS INT64) * INTERVAL '1' MONTH
    )
    AND CAST(orders.ordered_at AS DATE) < CAST(TIMESTAMP_TRUNC(CURRENT_DATE, MONTH) AS DATE)
  GROUP BY
    1
), final AS (
  SELECT
    TO_HEX(MD5(CAST(COALESCE(CAST(status AS STRING), '_martsmith_null_') AS STRING))) AS orders_last_month_by_status_key,
    status,
    order_count
  FROM aggregated
)
SELECT
  *
FROM final
