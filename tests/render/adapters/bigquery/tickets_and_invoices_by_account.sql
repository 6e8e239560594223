WITH stg_accounts AS (
  SELECT
    *
  FROM `adapters`.`main`.`stg_accounts`
), stg_invoices_by_account AS (
  SELECT
    stg_invoices_by_account.account_key,
    SUM(stg_invoices_by_account.invoice_total) AS total_invoice_total
  FROM `adapters`.`main`.`stg_invoices` AS stg_invoices_by_account
  GROUP BY
    1
), stg_tickets_by_account AS (
  SELECT
    stg_tickets_by_account.account_key,
    COUNT(*) AS ticket_count
  FROM `adapters`.`main`.`stg_tickets` AS stg_tickets_by_account
  GROUP BY
    1
), aggregated AS (
  SELECT
    stg_accounts.account_key,
    stg_accounts.account_name,
    SUM(stg_invoices_by_account.total_invoice_total) AS total_invoice_total,
    SUM(stg_tickets_by_account.ticket_count) AS ticket_count
  FROM stg_accounts
  LEFT JOIN stg_invoices_by_account
    ON stg_accounts.account_key = stg_invoices_by_account.account_key
  LEFT JOIN stg_tickets_by_account
    ON stg_accounts.account_key = stg_tickets_by_account.account_key
  GROUP BY
    1,
    2
), final AS (
  SELECT
    TO_HEX(
      MD5(
        CAST(COALESCE(CAST(account_key AS STRING), '_martsmith_null_') || '-' || COALESCE(CAST(account_name AS STRING), '_martsmith_null_') AS STRING)
      )
    ) AS tickets_and_invoices_by_account_key,
    account_key,
    account_name,
    total_invoice_total,
    ticket_count
  FROM aggregated
)
SELECT
  *
FROM final
