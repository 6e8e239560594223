-- One row, stamped an hour before now: good data for martsmith.recency.
select
    1 as heartbeat_id,
    {{ dbt.dateadd('hour', -1, dbt.current_timestamp()) }} as beat_at
