with

stg_accounts as (

    select * from adapters.stg_accounts

),

stg_invoices_by_account as (

    select
        stg_invoices_by_account.account_key,
        sum(stg_invoices_by_account.invoice_total) as total_invoice_total
    from adapters.stg_invoices as stg_invoices_by_account
    group by 1

),

stg_tickets_by_account as (

    select
        stg_tickets_by_account.account_key,
        count(*) as ticket_count
    from adapters.stg_tickets as stg_tickets_by_account
    group by 1

),

aggregated as (

    select
        stg_accounts.account_key,
        stg_accounts.account_name,
        sum(stg_invoices_by_account.total_invoice_total) as total_invoice_total,
        sum(stg_tickets_by_account.ticket_count) as ticket_count
    from stg_accounts
    left join stg_invoices_by_account
        on stg_accounts.account_key = stg_invoices_by_account.account_key
    left join stg_tickets_by_account
        on stg_accounts.account_key = stg_tickets_by_account.account_key
    group by 1, 2

),

final as (

    select
        md5(cast(concat(coalesce(cast(account_key as string), '_martsmith_null_'), '-', coalesce(cast(account_name as string), '_martsmith_null_')) as string))
            as tickets_and_invoices_by_account_key,
        account_key,
        account_name,
        total_invoice_total,
        ticket_count
    from aggregated

)

select * from final