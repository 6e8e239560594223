-- Every date_spine case, in both implementations, returns exactly the expected days: as many
-- rows as expected, no duplicates, and the expected first and last day (together: no gaps).
-- Returns one row per implementation and case that differs from seed martsmith_date_spine_expected.
with

expected as (
    select * from {{ ref('martsmith_date_spine_expected') }}
),

implementations as (
    select 'dispatched' as implementation
    union all
    select 'portable' as implementation
),

actual as (
    select
        implementation,
        case_id,
        count(*) as actual_days,
        count(distinct date_day) as actual_distinct_days,
        min(date_day) as actual_first_day,
        max(date_day) as actual_last_day
    from {{ ref('martsmith_date_spine_cases') }}
    group by implementation, case_id
),

expected_per_implementation as (
    select
        implementations.implementation,
        expected.case_id,
        expected.expected_days,
        expected.expected_first_day,
        expected.expected_last_day
    from expected
    cross join implementations
),

compared as (
    select
        coalesce(expected_per_implementation.implementation, actual.implementation) as implementation,
        coalesce(expected_per_implementation.case_id, actual.case_id) as case_id,
        expected_per_implementation.expected_days,
        coalesce(actual.actual_days, 0) as actual_days,
        coalesce(actual.actual_distinct_days, 0) as actual_distinct_days,
        expected_per_implementation.expected_first_day,
        actual.actual_first_day,
        expected_per_implementation.expected_last_day,
        actual.actual_last_day
    from expected_per_implementation
    full outer join actual
        on expected_per_implementation.implementation = actual.implementation
        and expected_per_implementation.case_id = actual.case_id
),

validation_errors as (
    select *
    from compared
    where
        -- a case the model computes but the seed does not expect
        expected_days is null
        -- wrong number of days (0 for an expected case the model lacks)
        or actual_days <> expected_days
        -- a day returned twice
        or actual_distinct_days <> actual_days
        -- wrong bounds (null when no rows are expected)
        or actual_first_day is distinct from expected_first_day
        or actual_last_day is distinct from expected_last_day
)

select * from validation_errors
