WITH orders AS (
  SELECT
    *
  FROM "adapters"."main"."shop_orders"
), aggregated AS (
  SELECT
    COUNT(*) AS order_count
  FROM orders
), final AS (
  SELECT
    order_count
  FROM aggregated
)
SELECT
  *
FROM final
