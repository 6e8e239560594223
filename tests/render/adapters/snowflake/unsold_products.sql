WITH products AS (
  SELECT
    *
  FROM "adapters"."main"."stg_products"
), order_items AS (
  SELECT
    *
  FROM "adapters"."main"."stg_order_items"
), selected AS (
  SELECT
    products.product_id,
    products.name AS product_name
  FROM products
  WHERE
    products.is_active = TRUE
    AND NOT EXISTS(
      SELECT
        order_items.product_id
      FROM order_items
      WHERE
        order_items.product_id = products.product_id AND order_items.quantity > 0
    )
), final AS (
  SELECT
    product_id,
    product_name
  FROM selected
)
SELECT
  *
FROM final
