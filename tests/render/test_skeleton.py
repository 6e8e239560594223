"""The SQL skeleton shared by model and star rendering (render/sql.py): CTEs, the final select,
select lists wrapped under the line length, the dedupe import."""

from __future__ import annotations

from martsmith.render.sql import MAX_LINE, cte, deduplicate, import_cte, model_sql, select, select_list


def test_model_file_is_ctes_then_the_final_select():
    sql = model_sql(
        [import_cte("orders", "{{ ref('stg_orders') }}"), cte("final", select(["orders.id"]) + "\n    from orders")]
    )
    assert sql == (
        "with\n\norders as (\n\n    select * from {{ ref('stg_orders') }}\n\n),\n\n"
        "final as (\n\n    select orders.id\n    from orders\n\n)\n\nselect * from final\n"
    )
    assert model_sql([cte("renamed", "    select 1")], "renamed").endswith("select * from renamed\n")


def test_select_distinct_and_dedupe():
    assert select(["a", "b"], distinct=True) == "    select distinct\n        a,\n        b"
    # One macro call that every adapter runs its own way (macros/sql/deduplicate.sql).
    assert deduplicate("{{ ref('m') }}", ["id"]) == (
        "    {{ martsmith.deduplicate(ref('m'), partition_by='id', order_by='id') }}"
    )
    assert deduplicate("{{ ref('m') }}", ["a", "b"], "at") == (
        "    {{ martsmith.deduplicate(ref('m'), partition_by='a, b', order_by='at desc nulls last') }}"
    )
    # Too long for one line: the arguments on a line of their own, then one a line.
    two = deduplicate("{{ ref('stg_orders') }}", ["customer_id"], "ordered_at")
    assert (
        two.splitlines()[1]
        == "        ref('stg_orders'), partition_by='customer_id', order_by='ordered_at desc nulls last'"
    )
    many = deduplicate("{{ source('a_long_source', 'a_long_table') }}", ["a_long_key", "another_key"], "updated_at")
    assert many.splitlines()[1:] == [
        "        source('a_long_source', 'a_long_table'),",
        "        partition_by='a_long_key, another_key',",
        "        order_by='updated_at desc nulls last'",
        "    ) }}",
    ]


def test_a_long_item_gets_its_alias_on_a_line_of_its_own():
    expr = "coalesce(cast(strftime(subscriptions.started_on, '%Y%m%d') as integer), -1)"
    (first, second) = select_list([f"{expr} as start_date_key"]).split("\n")
    assert first == f"        {expr}" and second == "            as start_date_key"
    assert all(len(line) <= MAX_LINE for line in (first, second))


def test_an_item_laid_out_by_its_maker_is_kept():
    item = "coalesce(\n            a_very_long_expression, default\n        ) as x" + "_" * 90
    assert select_list([item]) == "        " + item
