"""Drafting one fact: `FACT_PASSES`, applied in turn to a `FactDraft` by star/plan.py's
`draft_facts` pass. Headers are folded in first (their keys become the fact's targets), then
the fact's own dates, the dimension keys, the measures.

>>> date_role("ordered_at"), date_role("invoice_date"), role_key("buyer_id", "user")
('order', 'invoice', 'buyer_key')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from martsmith.context.catalog import ForeignKey, Table, entity_of
from martsmith.errors import PlanError
from martsmith.star.probe import Probe
from martsmith.star.spec import (
    DegenerateDimension,
    FactForeignKey,
    FactMeasure,
    Outrigger,
    ParentJoin,
    StagingSpec,
    StarDimension,
    StarFact,
)
from martsmith.star.staging import BOOKKEEPING, is_key
from martsmith.star.staging import staged_column as _col
from martsmith.star.state import StarPlan

NON_ADDITIVE = re.compile(r"(price|rate|ratio|pct|percent|discount|avg|average|score)")
SEMI_ADDITIVE = re.compile(r"(balance|inventory|stock|level|headcount)")
OUTRIGGER_NAMES = ("category", "subcategory", "brand", "department", "segment", "family")
DATE_ROLES = {
    "ordered": "order",
    "shipped": "ship",
    "paid": "payment",
    "placed": "order",
    "delivered": "delivery",
    "created": "created",
    "started": "start",
    "ended": "end",
    "returned": "return",
    "invoiced": "invoice",
}


@dataclass
class FactDraft:
    """One fact being drafted: its table, staging model, spec so far, and the keys (input
    alias, foreign key) still to turn into dimension keys."""

    table: Table
    staging: StagingSpec
    fact: StarFact
    own: list[ForeignKey]
    targets: list[tuple[str, ForeignKey]]


FactPass = Callable[[StarPlan, FactDraft], FactDraft]


def date_role(column: str) -> str:
    """ordered_at -> order, shipped_at -> ship, invoice_date -> invoice."""
    word = re.sub(r"(_at|_on|_date|_ts|_time|_timestamp)$", "", column)
    return DATE_ROLES.get(word, word)


def role_key(column: str, entity: str) -> str:
    """customer_id -> customer_key; a column named after a role keeps it: buyer_id -> buyer_key."""
    role = re.sub(r"_?(id|key|sk)$", "", column)
    return f"{entity}_key" if role in ("", entity) else f"{role}_key"


def measure_columns(t: Table, fk_columns: set[str], probe: Probe | None) -> list[tuple[str, bool]]:
    """(column, is_text_number) of a table's numeric non-key columns."""
    out = []
    for c in t.columns:
        if is_key(c.name) or c.name in fk_columns or c.name == t.primary_key:
            continue
        if c.family == "number":
            out.append((c.name, False))
        elif c.family == "text" and probe is not None and not c.values and probe.numeric_text(t, c.name):
            out.append((c.name, True))
    return out


def _event_dates(t: Table) -> list[str]:
    """A table's time columns that date an event (not bookkeeping like updated_at)."""
    return [c.name for c in t.columns if c.family == "time" and not BOOKKEEPING.match(c.name)]


def _date_key(column: str, stg: StagingSpec, alias: str) -> FactForeignKey:
    return FactForeignKey(
        name=f"{date_role(column)}_date_key", dimension="dim_date", input=alias, column=_col(stg, column), role="date"
    )


def dimension_of(t: Table, stg: StagingSpec, snowflake: bool) -> StarDimension:
    """`dim_<entity>` over the table's staging model; snowflaked, its category-like text
    columns become outriggers."""
    ent = entity_of(t.name)
    attrs = [
        c.name
        for c in stg.columns
        if c.name != stg.key and not BOOKKEEPING.match(c.name) and not c.name.endswith("_id")
    ]
    outriggers = []
    if snowflake:
        for c in t.columns:
            if c.name in OUTRIGGER_NAMES and c.family == "text":
                outriggers.append(Outrigger(attribute=_col(stg, c.name), dimension=f"dim_{c.name}"))
    return StarDimension(
        name=f"dim_{ent}",
        entity=ent,
        base=stg.name,
        natural_key=stg.key,
        attributes=attrs,
        outriggers=outriggers,
        reason=f"referenced by the fact through {t.name}",
    )


def draft_fact(plan: StarPlan, t: Table) -> FactDraft:
    """A fact of `t` at its staging model's grain, its own foreign keys as targets."""
    stg = plan.stage(t)
    own = [fk for fk in plan.fks if fk.table == t.label]
    plan.used_by_fact.add(t.label)
    fact = StarFact(name=f"fct_{t.name}", process=t.name, base=stg.name, grain=[stg.key])
    return FactDraft(table=t, staging=stg, fact=fact, own=own, targets=[("fact", fk) for fk in own])


# -- the passes -----------------------------------------------------------------------------


def fold_headers(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """A table the fact points at that points further (orders of order_items) is a header,
    unless the description names it as a dimension: joined into the fact, its key and text
    attributes become degenerate dimensions, its dates date keys, and its own keys are carried
    down (they replace it among the targets)."""
    ft, fact, fstg = draft.table, draft.fact, draft.staging
    by_label = plan.by_label
    for fk in draft.own:
        parent = by_label[fk.ref_table]
        parent_fks = [p for p in plan.fks if p.table == parent.label]
        if not parent_fks or (plan.named_dims is not None and parent in plan.named_dims):
            continue
        pstg = plan.stage(parent)
        alias = parent.name
        fact.parents.append(
            ParentJoin(alias=alias, base=pstg.name, fact_column=_col(fstg, fk.column), parent_key=pstg.key)
        )
        fact.degenerate.append(DegenerateDimension(name=_col(fstg, fk.column), column=_col(fstg, fk.column)))
        dates = _event_dates(parent)
        for c in parent.columns:
            if c.family == "text" and c.values and not is_key(c.name):
                fact.degenerate.append(
                    DegenerateDimension(
                        name=f"{entity_of(parent.name)}_{c.name}", input=alias, column=_col(pstg, c.name)
                    )
                )
            if c.name in dates:
                plan.date_columns.append((parent, c.name))
                fact.foreign_keys.append(_date_key(c.name, pstg, alias))
        draft.targets.remove(("fact", fk))
        draft.targets += [(alias, p) for p in parent_fks]
        plan.used_by_fact.add(parent.label)
        plan.reasons.append(
            f"{parent.name}: header of {ft.name} ({ft.name}.{fk.column} -> {parent.name}); it points "
            f"on to {', '.join(by_label[p.ref_table].name for p in parent_fks)}, so its key, "
            "dates and attributes go into the fact and its keys are carried down through the join"
        )
        header_measures = measure_columns(parent, {p.column for p in parent_fks}, plan.probe)
        if header_measures:
            plan.notes.append(
                f"{parent.name} measures ({', '.join(m for m, _ in header_measures)}) are at the "
                f"{entity_of(parent.name)} grain: left out of {fact.name} so sums don't double"
            )
    return draft


def event_dates(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """A date key for each of the fact table's own event dates (ordered_at -> order_date_key)."""
    for column in _event_dates(draft.table):
        plan.date_columns.append((draft.table, column))
        draft.fact.foreign_keys.append(_date_key(column, draft.staging, "fact"))
    return draft


def dimension_keys(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """For each target the description asks for (all, when it names none): its dimension
    (planned once) and the fact's key to it, named after its role; raise when two keys would
    reach one dimension in the same role."""
    ft, fact, by_label = draft.table, draft.fact, plan.by_label
    for alias, fk in draft.targets:
        dt = by_label[fk.ref_table]
        if plan.named_dims is not None and dt not in plan.named_dims:
            plan.notes.append(f"{dt.name} is reachable from {ft.name} but was not asked for: left out")
            continue
        dstg = plan.stage(dt)
        ent = entity_of(dt.name)
        if f"dim_{ent}" not in plan.dims:
            plan.dims[f"dim_{ent}"] = dimension_of(dt, dstg, plan.snowflake)
            plan.reasons.append(
                f"{dt.name}: dimension dim_{ent} ({fk.table.split('.')[-1]}.{fk.column} -> {dt.name}.{fk.ref_column})"
            )
        src_stg = (
            draft.staging if alias == "fact" else plan.staging[next(p.label for p in plan.tables if p.name == alias)]
        )
        key = FactForeignKey(
            name=role_key(fk.column, ent), dimension=f"dim_{ent}", input=alias, column=_col(src_stg, fk.column)
        )
        clash = next((k for k in fact.foreign_keys if k.name == key.name), None)
        if clash is not None:
            where = lambda k: f"{ft.name if k.input == 'fact' else k.input}.{k.column}"  # noqa: E731
            raise PlanError(
                f"{fact.name} reaches {dt.name} twice, by {where(clash)} and by {where(key)}: which "
                f"{ent} does each one mean?",
                hint=f"Rename the columns after their roles (e.g. billing_{ent}_id, shipping_{ent}_id) "
                "to get one key per role, or name only the tables you want in the description.",
            )
        fact.foreign_keys.append(key)
    return draft


def measures(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """The fact table's numeric non-key columns, each with its additivity (a price or a rate
    does not add up; a balance adds up across dimensions but not over time)."""
    for m, _text in measure_columns(draft.table, {fk.column for fk in draft.own}, plan.probe):
        col = _col(draft.staging, m)
        additivity = (
            "non_additive" if NON_ADDITIVE.search(m) else "semi_additive" if SEMI_ADDITIVE.search(m) else "additive"
        )
        draft.fact.measures.append(FactMeasure(name=col, column=col, additivity=additivity))
    return draft


def dates_if_wanted(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """No date keys when the description names tables but no dates."""
    if not plan.want_dates:
        draft.fact.foreign_keys = [f for f in draft.fact.foreign_keys if f.role != "date"]
    return draft


def explain_fact(plan: StarPlan, draft: FactDraft) -> FactDraft:
    """The fact's reason, first among the reasons."""
    ft, fact = draft.table, draft.fact
    plan.reasons.insert(
        0,
        f"{ft.name}: fact {fact.name}, one row per {entity_of(ft.name)} ({draft.staging.key}); measures "
        f"{', '.join(m.name for m in fact.measures)}; keys to {', '.join(sorted({fk.dimension for fk in fact.foreign_keys}))}",
    )
    return draft


FACT_PASSES: tuple[FactPass, ...] = (fold_headers, event_dates, dimension_keys, measures, dates_if_wanted, explain_fact)
