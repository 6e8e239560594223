"""Staging models of a star schema: `stg_<source>__<table>`, one per source table used, with
clean column names, light cleaning (trim and lower-case inconsistent text, numbers kept as
text cast to numbers) and the latest row per key when the key repeats.

>>> staged_name("id", "order"), staged_name("name", "product"), staged_name("amount", "order")
('order_id', 'product_name', 'amount')
"""

from __future__ import annotations

import re

from martsmith.context.catalog import Catalog, Table, entity_of
from martsmith.errors import PlanError
from martsmith.star.probe import Probe
from martsmith.star.spec import StagedColumn, StagingSpec

UPDATED_COLUMNS = ("updated_at", "modified_at", "_updated_at", "last_modified", "updated", "loaded_at", "_loaded_at")
# Timestamps of the pipeline, not of an event: never a date key, never a dimension attribute.
BOOKKEEPING = re.compile(
    r"^_?(updated|modified|loaded|synced|ingested|extracted|inserted|deleted)(_at|_on|_date|_ts)?$"
)
# Names that are SQL keywords (sqlfluff RF04) and say little in a mart: name -> product_name.
KEYWORD_NAMES = frozenset(
    {
        "name",
        "type",
        "date",
        "value",
        "year",
        "month",
        "day",
        "time",
        "timestamp",
        "key",
        "user",
        "order",
        "group",
        "comment",
        "role",
        "position",
        "level",
        "source",
    }
)


def is_key(name: str) -> bool:
    """An identifier column: id, *_id, *_key, *_sk."""
    return name == "id" or name.endswith(("_id", "_key", "_sk"))


def staged_name(column: str, entity: str) -> str:
    """The column's name in the staging model: `id` -> `<entity>_id`, a keyword gets the entity."""
    clean = f"{entity}_id" if column == "id" else column.lower()
    return f"{entity}_{clean}" if clean in KEYWORD_NAMES else clean


def staged_column(stg: StagingSpec, raw: str) -> str:
    """The staging model's name of source column `raw`."""
    return next((c.name for c in stg.columns if c.source_column == raw), raw)


def _host_staging(t: Table, host: Table, entity: str, notes: list[str]) -> StagingSpec | None:
    """The project's own staging model of `t`, reused when each column of `t` is one of its
    columns, by the same name or the name staging gives it (`id` -> `order_id`); else None,
    with a note saying which columns it does not carry so."""
    columns, missing = [], []
    for c in t.columns:
        col = host.column(c.name) or host.column(staged_name(c.name, entity))
        if col is None:
            missing.append(c.name)
        else:
            columns.append(StagedColumn(name=col.name, source_column=c.name, data_type=col.data_type.lower()))
    if missing:
        notes.append(
            f"{host.name} stages {t.name} but has no column for {', '.join(missing)} under that name or "
            f"{entity}_<name>: a staging model of martsmith's own is written instead"
        )
        return None
    key = host.primary_key or staged_name(t.primary_key or "id", entity)
    notes.append(f"{host.name}: the project's own staging model of {t.name}, reused")
    return StagingSpec(
        name=host.name, source_name=t.source_name or "", table=t.name, key=key, columns=columns, existing=True
    )


def plan_staging(
    t: Table, catalog: Catalog, probe: Probe | None, notes: list[str], *, grain_of: str | None = None
) -> StagingSpec:
    """`stg_<source>__<table>`; `grain_of` names the model whose grain this table's key is (for
    the message when the data contradicts it)."""
    entity = entity_of(t.name)
    existing = catalog.table(f"stg_{t.source_name}__{t.name}")
    name = f"stg_{t.source_name}__{t.name}"
    host = catalog.table(catalog.staging.get(t.label, "")) if existing is None else None
    if host is not None:
        reused = _host_staging(t, host, entity, notes)
        if reused is not None:
            return reused
    if existing is not None:
        cols = [
            StagedColumn(name=c.name, source_column=c.name, data_type=c.data_type.lower()) for c in existing.columns
        ]
        return StagingSpec(
            name=name,
            source_name=t.source_name or "",
            table=t.name,
            key=existing.primary_key or cols[0].name,
            columns=cols,
            existing=True,
        )
    key = t.primary_key or "id"
    cols = []
    for c in t.columns:
        transform, dtype = "none", c.data_type.lower()
        if c.family == "text" and c.values and any(v != v.strip().lower() for v in c.values):
            transform = "trim_lower"
        elif (
            c.family == "text"
            and not is_key(c.name)
            and probe is not None
            and not c.values
            and probe.numeric_text(t, c.name)
        ):
            transform, dtype = "cast_number", "decimal(18,2)"
        cols.append(
            StagedColumn(name=staged_name(c.name, entity), source_column=c.name, data_type=dtype, transform=transform)
        )
    clean_key = f"{entity}_id" if key == "id" else key
    spec = StagingSpec(name=name, source_name=t.source_name or "", table=t.name, key=clean_key, columns=cols)
    if t.primary_key_unique is False:
        order = next((c for c in UPDATED_COLUMNS if t.column(c) is not None), None)
        if order is None:
            examples = probe.duplicates(t, [key]) if probe is not None else []
            shown = ", ".join(f"{key} {row[0]} ({row[-1]} rows)" for row in examples)
            grain = f"the grain of {grain_of}, one row per {entity}," if grain_of else f"the grain one row per {entity}"
            raise PlanError(
                f"The data contradicts {grain} ({t.name}.{key}): {t.name} has several rows per {key} "
                f"({'e.g. ' + shown if shown else 'not checked which'}) and no updated_at-like column to "
                "keep the latest.",
                hint=f"Deduplicate {t.name} in a model first, or declare the key that is unique "
                "(`unique` + `not_null` tests on it).",
            )
        spec.dedupe, spec.dedupe_order_by = True, order
        notes.append(
            f"{name}: {t.name}.{key} repeats (late-arriving updates): keeps the latest row per {key} by {order}"
        )
    return spec
