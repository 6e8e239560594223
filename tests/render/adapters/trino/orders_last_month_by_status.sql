WITH orders AS (
  SELECT
    *
  FROM "adapters"."main"."shop_orders"
), aggregated AS (
  SELECT
    orders.status,
    COUNT(*) AS order_count
  FROM orders
  WHERE
    CAST(orders.ordered_at AS DATE) >= (
      CAST(DATE_TRUNC('MONTH', CURRENT_DATE) AS DATE) + CAST(-1 AS BIGINT) * INTERVAL '1' MONTH
    )
    AND CAST(orders.ordered_at AS DATE) < CAST(DATE_TRUNC('MONTH', CURRENT_DATE) AS DATE)
  GROUP BY
    1
), final AS (
  SELECT
    LOWER(
      TO_HEX(
        MD5(TO_UTF8(CAST(COALESCE(CAST(status AS VARCHAR), '_martsmith_null_') AS VARCHAR)))
      )
    ) AS orders_last_month_by_status_key,
    status,
    order_count
  FROM aggregated
)
SELECT
  *
FROM final
