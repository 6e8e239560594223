"""A digest of the warehouse, to tell what a run changed (defence in depth around dbt).

Generated code is checked before it runs, but dbt runs Jinja (hooks, macros, `run_query`) that a
check may miss. So every run that invokes dbt takes a digest of every user schema of the DuckDB
warehouse before and after: schemas; per relation its kind, columns and, for tables, the row count
and — for tables of at most SMALL_TABLE_ROWS rows — an order-independent checksum of the rows;
for views their definition. Any difference outside what the run may create or replace fails the
run (errors.WarehouseChanged).

Cost: two catalog queries and one aggregate query (a UNION ALL of one count — and checksum for
small tables — per table).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from martsmith.errors import WarehouseError
from martsmith.write.journal import own_temp_relation

if TYPE_CHECKING:
    from martsmith.context.warehouse import Warehouse

SMALL_TABLE_ROWS = 10_000
# dbt's store_failures tables go to `<schema>_dbt_test__audit`: dbt test may create those.
AUDIT_SCHEMA_SUFFIX = "dbt_test__audit"


@dataclass(frozen=True)
class RelationState:
    kind: str  # "table" | "view"
    columns: tuple[str, ...]
    rows: int | None = None  # tables
    checksum: int | None = None  # tables of at most SMALL_TABLE_ROWS rows
    definition: str | None = None  # views


@dataclass
class Digest:
    schemas: frozenset[str] = frozenset()
    relations: dict[tuple[str, str], RelationState] = field(default_factory=dict)  # keys lowercase


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def take_digest(wh: Warehouse) -> Digest:
    """The digest of every user schema of the warehouse's current database (the engine lists
    them from its own catalog: `Warehouse.user_schemas`, `Warehouse.relation_states`)."""
    schemas = frozenset(s.lower() for s in wh.user_schemas())
    rows = wh.relation_states()
    tables: list[tuple[str, str, bool]] = []
    relations: dict[tuple[str, str], RelationState] = {}
    for kind, schema, name, estimated, sql, cols in rows:
        key = (schema.lower(), name.lower())
        relations[key] = RelationState(kind=kind, columns=tuple(cols or ()), definition=sql)
        if kind == "table":
            tables.append((schema, name, (estimated or 0) <= SMALL_TABLE_ROWS))
    for key, (count, checksum) in _counts(wh, tables).items():
        state = relations[key]
        relations[key] = RelationState(state.kind, state.columns, rows=count, checksum=checksum)
    return Digest(schemas, relations)


def _count_sql(wh: Warehouse, i: int, schema: str, name: str, small: bool) -> str:
    rel = f"{_quote(schema)}.{_quote(name)}"
    # sum, not bit_xor, of the row hashes: duplicate rows must not cancel out.
    checksum = wh.row_checksum("t") if small else "null"
    return f"select {i} as i, count(*) as n, {checksum} as h from {rel} t"


def _counts(wh: Warehouse, tables: list[tuple[str, str, bool]]) -> dict[tuple[str, str], tuple[int, int | None]]:
    out: dict[tuple[str, str], tuple[int, int | None]] = {}
    if not tables:
        return out

    keys = [(s.lower(), n.lower()) for s, n, _ in tables]
    try:
        rows = wh.query_native(
            " union all ".join(_count_sql(wh, i, s, n, small) for i, (s, n, small) in enumerate(tables))
        )
    except WarehouseError:  # one odd table (a type hash() refuses): count them one by one
        rows = []
        for i, (s, n, small) in enumerate(tables):
            try:
                rows += wh.query_native(_count_sql(wh, i, s, n, small))
            except WarehouseError:
                rows += wh.query_native(_count_sql(wh, i, s, n, False))
    for i, count, checksum in rows:
        out[keys[i]] = (int(count), None if checksum is None else int(checksum))
    return out


def changes(before: Digest, after: Digest, allowed: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Each difference between two digests outside the relations `allowed` [(schema, name)]
    (and the temporary relations martsmith and dbt make for them), in words."""
    allowed_keys = {(s.lower(), n.lower()) for s, n in allowed}
    allowed_names = [n for _, n in allowed_keys]
    allowed_schemas = {s for s, _ in allowed_keys}

    def ours(schema: str, name: str) -> bool:
        return (
            (schema, name) in allowed_keys
            or own_temp_relation(name, allowed_names)
            or schema.endswith(AUDIT_SCHEMA_SUFFIX)
        )

    out: list[str] = []
    gone = before.schemas - after.schemas
    for schema in sorted(gone):
        n = sum(1 for s, _ in before.relations if s == schema)
        out.append(f"schema {schema} dropped" + (f" (with its {n} relation{'s' if n != 1 else ''})" if n else ""))
    for schema in sorted(after.schemas - before.schemas):
        if schema not in allowed_schemas and not schema.endswith(AUDIT_SCHEMA_SUFFIX):
            out.append(f"schema {schema} created")
    for key in sorted(before.relations.keys() | after.relations.keys()):
        schema, name = key
        if ours(schema, name):
            continue
        label = f"{schema}.{name}"
        b, a = before.relations.get(key), after.relations.get(key)
        if b is None and a is not None:
            out.append(f"{label} created")
        elif a is None and b is not None:
            if schema not in gone:
                out.append(f"{label} dropped")
        elif a is not None and b is not None and a != b:
            if a.kind != b.kind:
                out.append(f"{label}: a {b.kind} replaced by a {a.kind}")
            elif a.columns != b.columns:
                out.append(f"{label}: columns changed")
            elif a.rows != b.rows:
                out.append(f"{label}: {b.rows:,} → {a.rows:,} rows")
            elif a.definition != b.definition:
                out.append(f"{label}: view definition changed")
            elif a.checksum is not None and b.checksum is not None and a.checksum != b.checksum:
                out.append(f"{label}: contents changed (same {a.rows:,} rows)")
    return out
