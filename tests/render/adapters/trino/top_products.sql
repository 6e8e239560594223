WITH order_items AS (
  SELECT
    *
  FROM "adapters"."main"."stg_order_items"
), products AS (
  SELECT
    *
  FROM "adapters"."main"."stg_products"
), orders AS (
  SELECT
    *
  FROM "adapters"."main"."stg_orders"
), aggregated AS (
  SELECT
    products.name AS product_name,
    SUM(order_items.quantity) AS quantity_sold,
    COUNT(DISTINCT order_items.order_id) AS order_count,
    COUNT(*) AS item_count
  FROM order_items
  LEFT JOIN products
    ON order_items.product_id = products.product_id
  INNER JOIN orders
    ON order_items.order_id = orders.order_id
  WHERE
    CAST(orders.ordered_at AS DATE) BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-12-31' AS DATE)
    AND NOT orders.status IN ('cancelled')
    AND order_items.quantity > 0
    AND products.is_active = TRUE
    AND NOT products.name IS NULL
  GROUP BY
    1
), final AS (
  SELECT
    LOWER(
      TO_HEX(
        MD5(
          TO_UTF8(CAST(COALESCE(CAST(product_name AS VARCHAR), '_martsmith_null_') AS VARCHAR))
        )
      )
    ) AS top_products_key,
    product_name,
    quantity_sold,
    order_count,
    item_count
  FROM aggregated
  ORDER BY
    3 DESC
  LIMIT 5
)
SELECT
  *
FROM final
