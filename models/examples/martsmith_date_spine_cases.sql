-- One row per implementation, case and day: each date_spine case run through the dispatched
-- macro (range() on DuckDB) and through the portable default__ version, for
-- tests/dbt/assert_date_spine_matches_expected.sql to compare with seed
-- martsmith_date_spine_expected.
{%- set cases = {
    'leap_day': ('2024-02-25', '2024-03-05'),
    'single_day': ('2026-11-26', '2026-11-27'),
    'empty': ('2026-11-26', '2026-11-26'),
    'three_decades': ('2000-01-01', '2030-01-01'),
    'expression_bounds': ("cast('2024-12-31' as date)", "cast('2025-01-02' as date)"),
} -%}
{%- set implementations = {
    'dispatched': martsmith.date_spine,
    'portable': martsmith.default__date_spine,
} %}

with
{% for implementation, date_spine in implementations.items() %}
{%- for case_id, bounds in cases.items() %}
{{ implementation }}__{{ case_id }} as (
    {{ date_spine(bounds[0], bounds[1]) | indent(4) }}
),
{% endfor %}
{%- endfor %}
unioned as (
    {%- for implementation in implementations %}
    {%- set outer_loop = loop %}
    {%- for case_id in cases %}
    select
        '{{ implementation }}' as implementation,
        '{{ case_id }}' as case_id,
        date_day
    from {{ implementation }}__{{ case_id }}
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select * from unioned
