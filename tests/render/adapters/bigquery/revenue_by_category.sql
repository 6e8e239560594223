WITH order_items AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_order_items`
), products AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_products`
), aggregated AS (
  SELECT
    products.category,
    SUM(order_items.quantity * order_items.unit_price) AS gross_revenue
  FROM order_items
  LEFT JOIN products
    ON order_items.product_id = products.product_id
  GROUP BY
    1
), final AS (
  SELECT
    category,
    gross_revenue
  FROM aggregated
  ORDER BY
    2 DESC
)
SELECT
  *
FROM final
