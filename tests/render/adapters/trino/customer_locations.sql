WITH customers AS (
  SELECT
    *
  FROM "adapters"."main"."stg_customers"
), selected AS (
  SELECT DISTINCT
    customers.country,
    customers.city
  FROM customers
), final AS (
  SELECT
    country,
    city
  FROM selected
  ORDER BY
    1 ASC,
    2 ASC
)
SELECT
  *
FROM final
