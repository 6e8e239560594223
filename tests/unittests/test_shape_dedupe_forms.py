"""The picker reads a deduplicated input the same whichever adapter compiled martsmith.deduplicate:
DuckDB's qualify, Postgres' distinct on, the default numbered subquery."""

from __future__ import annotations

import pytest

from martsmith.unittests.shape import model_shape

SCHEMA = {("raw", "orders"): {"id": "int", "status": "text", "updated_at": "timestamp", "amount": "int"}}
ORDER = "order by updated_at desc nulls last"
DEDUPED = {
    "duckdb": f'select * from "raw"."orders" qualify row_number() over (partition by id {ORDER}) = 1',
    "postgres": 'select distinct on (id) * from "raw"."orders" order by id, updated_at desc nulls last',
    "default": (
        'select ranked."id", ranked."status", ranked."updated_at", ranked."amount" from ('
        f"select numbered.*, row_number() over (partition by id {ORDER}) as _martsmith_row "
        'from "raw"."orders" as numbered) as ranked where ranked._martsmith_row = 1'
    ),
}


@pytest.mark.parametrize("adapter", sorted(DEDUPED))
def test_every_compiled_dedupe_gives_the_same_shape(adapter):
    sql = (
        f"with orders as ({DEDUPED[adapter]}) "
        "select orders.status, sum(orders.amount) as total from orders where orders.status = 'paid' group by 1"
    )
    shape = model_shape(sql, SCHEMA)
    # the key and the order read by the dedupe count as used; the row number is no condition
    assert shape.used == {("raw", "orders"): ["id", "status", "updated_at", "amount"]}
    assert [c.reason for c in shape.conditions] == [
        "WHERE orders.status = 'paid': passes",
        "WHERE orders.status = 'paid': filtered out",
    ]
