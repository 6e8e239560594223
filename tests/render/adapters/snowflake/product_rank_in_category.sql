WITH order_items AS (
  SELECT
    *
  FROM "adapters"."main"."stg_order_items"
), products AS (
  SELECT
    *
  FROM "adapters"."main"."stg_products"
), aggregated AS (
  SELECT
    products.category,
    products.name AS product_name,
    SUM(order_items.quantity) AS units_sold
  FROM order_items
  LEFT JOIN products
    ON order_items.product_id = products.product_id
  GROUP BY
    1,
    2
), windowed AS (
  SELECT
    category,
    product_name,
    units_sold,
    RANK() OVER (PARTITION BY category ORDER BY units_sold DESC NULLS LAST) AS units_rank,
    DENSE_RANK() OVER (PARTITION BY category ORDER BY units_sold DESC NULLS LAST) AS units_dense_rank,
    ROW_NUMBER() OVER (PARTITION BY category ORDER BY units_sold DESC NULLS LAST) AS units_row_number,
    1.0 * units_sold / NULLIF(SUM(units_sold) OVER (PARTITION BY category), 0) AS category_units_share
  FROM aggregated
), final AS (
  SELECT
    MD5(
      CAST(COALESCE(CAST(category AS VARCHAR), '_martsmith_null_') || '-' || COALESCE(CAST(product_name AS VARCHAR), '_martsmith_null_') AS VARCHAR)
    ) AS product_rank_in_category_key,
    category,
    product_name,
    units_sold,
    units_rank,
    units_dense_rank,
    units_row_number,
    category_units_share
  FROM windowed
)
SELECT
  *
FROM final
