-- One row per surrogate_key case: the keys martsmith.surrogate_key computes beside the keys
-- expected for the same inputs (seed martsmith_surrogate_key_expected).
with

cases as (
    select * from {{ ref('martsmith_surrogate_key_expected') }}
),

keyed as (
    select
        case_id,
        expected_key_one_field,
        expected_key_three_fields,
        {{ martsmith.surrogate_key(['text_value']) }} as surrogate_key_one_field,
        {{ martsmith.surrogate_key(
            ['text_value', 'int_value', 'date_value']
        ) }} as surrogate_key_three_fields
    from cases
)

select * from keyed
