"""SCD type 2 dimensions (`martsmith star --scd2 ENTITY`): history from the data's own rows.

A type-2 dimension is only made where the data carries history: the dimension's source table
has several rows per key, dated by an updated_at-like column (late-arriving updates appended
as new rows). Those rows *are* the versions, so the dimension is derived from them with window
functions — no dbt snapshot:

- the staging model keeps every version (one row per key and updated_at; exact duplicate rows
  dropped) instead of only the latest;
- `dim_<entity>` has one row per version: valid_from = its updated_at, valid_to = the next
  version's updated_at (9999-12-31 for the current one), is_current; the surrogate key hashes
  (natural key, valid_from). The first version of a key is valid from 1900-01-01: the earliest
  values known are taken to have held since the start, so a fact older than the first recorded
  change still finds its member;
- the fact picks the version valid at its event time (`natural key = ... and valid_from <=
  event < valid_to`), and the unknown member when there is none.

Why not a snapshot: a dbt snapshot only records versions from its first run on, and needs one
row per key. Where the rows already hold the versions, history from the data is complete from
the first build, deterministic (a rebuild gives the same keys) and rebuilt with the rest of the
layout in one all-or-nothing `dbt build`. A source that overwrites its rows in place carries no
history: it is refused, with a snapshot as the way to start recording one.
"""

from __future__ import annotations

import re

from martsmith.errors import PlanError, UsageError
from martsmith.star.spec import EventTime, StarDimension, StarFact, StarSpec

# Bookkeeping times are not when a business event happened (plan.BOOKKEEPING, repeated to keep
# this module free of the planner).
BOOKKEEPING = re.compile(
    r"^_?(updated|modified|loaded|synced|ingested|extracted|inserted|deleted)(_at|_on|_date|_ts)?$"
)
VALID_FROM_START = "1900-01-01"
VALID_TO_END = "9999-12-31"


def find_dimension(star: StarSpec, entity: str) -> StarDimension:
    """The planned dimension `entity` names: 'customer', 'customers' or 'dim_customer'."""
    wanted = entity.strip().lower().removeprefix("dim_")
    for d in star.dimensions:
        if (
            wanted in (d.entity, d.name.removeprefix("dim_"))
            or wanted.rstrip("s") == d.entity
            or wanted == d.entity + "es"
        ):
            return d
    planned = ", ".join(d.entity for d in star.dimensions if not d.distinct_of) or "none"
    raise UsageError(
        f"--scd2 {entity}: the layout has no dimension '{entity}'.",
        hint=f"Planned dimensions: {planned}. Name one of them, or add it to the description.",
    )


def _event_time(fact: StarFact, fk_input: str, star: StarSpec) -> EventTime | None:
    """When the fact's event happened: its first date key on the same input as the dimension's
    key, else any date key, else the first business time column of its inputs."""
    dates = [fk for fk in fact.foreign_keys if fk.role == "date"]
    for fk in sorted(dates, key=lambda fk: fk.input != fk_input):
        return EventTime(input=fk.input, column=fk.column)
    bases = {"fact": fact.base} | {p.alias: p.base for p in fact.parents}
    for alias in sorted(bases, key=lambda a: a != fk_input):
        stg = star.staging_model(bases[alias])
        for c in stg.columns if stg is not None else []:
            if c.data_type.lower().startswith(("timestamp", "date")) and not BOOKKEEPING.match(c.name):
                return EventTime(input=alias, column=c.name)
    return None


def make_type2(star: StarSpec, entities: list[str]) -> StarSpec:
    """Turn the dimensions `entities` name into SCD type 2, or say why the data can't carry it.

    Raises UsageError for a name that is no planned dimension, PlanError where the data has no
    history (no updated_at-like column, or one row per key) or a fact has no event time."""
    for entity in dict.fromkeys(entities):
        d = find_dimension(star, entity)
        if d.scd_type == 2:
            continue
        stg = star.staging_model(d.base)
        table = stg.table if stg is not None else d.base
        if d.distinct_of:
            raise UsageError(
                f"--scd2 {entity}: {d.name} is a snowflake outrigger of distinct values, not an entity with history.",
                hint="Make the dimension it comes from type 2 instead.",
            )
        if stg is None or stg.existing:
            raise PlanError(
                f"{d.name} can't be type 2: its staging model {d.base} already exists and keeps one row per key.",
                hint=f"Keep {d.name} type 1, or give {d.base} one row per version first.",
            )
        if stg.dedupe_order_by is None or not stg.dedupe:
            missing = (
                "no updated_at-like column (updated_at, modified_at, ...) to date versions by"
                if stg.dedupe_order_by is None and not stg.dedupe
                else f"one row per {stg.key}: no earlier versions"
            )
            raise PlanError(
                f"{d.name} can't be type 2: {table} carries no history ({missing}).",
                hint=f"Keep {d.name} type 1 (drop --scd2 {entity}), or start recording history with a dbt "
                f"snapshot of {d.base} (strategy: timestamp) and model the dimension from it.",
            )
        if any(p.base == d.base for f in star.facts for p in f.parents):
            raise PlanError(
                f"{d.name} can't be type 2: {d.base} is also joined into a fact as a header, one row per key.",
                hint=f"Keep {d.name} type 1.",
            )
        for f in star.facts:
            for fk in f.foreign_keys:
                if fk.dimension != d.name:
                    continue
                fk.as_of = _event_time(f, fk.input, star)
                if fk.as_of is None:
                    raise PlanError(
                        f"{d.name} can't be type 2: {f.name} has no event time to pick the {d.entity} version valid then.",
                        hint=f"Keep {d.name} type 1, or add the time of the event to {f.base}.",
                    )
        stg.keep_versions = True
        star.notes = [
            re.sub(r"keeps the latest row per \w+ by", f"keeps every version ({d.name} is type 2), dated by", n)
            if n.startswith(f"{stg.name}: ")
            else n
            for n in star.notes
        ]
        d.scd_type, d.versioned_by = 2, stg.dedupe_order_by
        d.attributes = [a for a in d.attributes if a != stg.dedupe_order_by]
        picks = ", ".join(
            sorted(
                {
                    f"{f.name} by {fk.as_of.input if fk.as_of.input != 'fact' else f.process}.{fk.as_of.column}"
                    for f in star.facts
                    for fk in f.foreign_keys
                    if fk.dimension == d.name and fk.as_of
                }
            )
        )
        star.reasons.append(
            f"{d.name}: SCD type 2 from the versions in {table} (several rows per {stg.key}, dated by "
            f"{stg.dedupe_order_by}); facts pick the version valid at their event time ({picks})"
        )
    return star
