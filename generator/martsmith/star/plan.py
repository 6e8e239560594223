"""The offline star planner: description (or just a source) + catalog -> `StarSpec`.

Roles come from the keys: the fact is the table at the finest grain with numeric measures and
foreign keys to others (nothing points at it); a table the fact points at that itself points
further (orders -> customers) is a *header*, folded into the fact (its dates, its degenerate
attributes, its keys carried down through the join); the other tables reached are dimensions.
Every choice is written to `reasons`; words it cannot place are an error, never a guess.
"""

from __future__ import annotations

import re

from martsmith.context.catalog import Catalog, ForeignKey, Table, entity_of, singular
from martsmith.errors import PlanError, UsageError
from martsmith.plan.linking import TABLES, closest
from martsmith.star.link import explicit_fact, link_words, star_index, words_of
from martsmith.star.link import link_description as link_description
from martsmith.star.probe import Probe
from martsmith.star.spec import (
    DateDimension, DegenerateDimension, FactForeignKey, FactMeasure, Outrigger, ParentJoin,
    StagedColumn, StagingSpec, StarDimension, StarFact, StarSpec,
)

UPDATED_COLUMNS = ("updated_at", "modified_at", "_updated_at", "last_modified", "updated", "loaded_at", "_loaded_at")
BOOKKEEPING = re.compile(r"^_?(updated|modified|loaded|synced|ingested|extracted|inserted|deleted)(_at|_on|_date|_ts)?$")
NON_ADDITIVE = re.compile(r"(price|rate|ratio|pct|percent|discount|avg|average|score)")
SEMI_ADDITIVE = re.compile(r"(balance|inventory|stock|level|headcount)")
KEYWORD_NAMES = frozenset({"name", "type", "date", "value", "year", "month", "day", "time", "timestamp",
                           "key", "user", "order", "group", "comment", "role", "position", "level", "source"})
OUTRIGGER_NAMES = ("category", "subcategory", "brand", "department", "segment", "family")
DATE_ROLES = {"ordered": "order", "shipped": "ship", "paid": "payment", "placed": "order", "delivered": "delivery",
              "created": "created", "started": "start", "ended": "end", "returned": "return", "invoiced": "invoice"}


def _is_time(t: Table, col: str) -> bool:
    c = t.column(col)
    return c is not None and c.family == "time"


def _is_key(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_key", "_sk"))


def date_role(column: str) -> str:
    """ordered_at -> order, shipped_at -> ship, invoice_date -> invoice."""
    word = re.sub(r"(_at|_on|_date|_ts|_time|_timestamp)$", "", column)
    return DATE_ROLES.get(word, word)


# -- linking the description (star/link.py) ----------------------------------------------

# -- roles from keys ------------------------------------------------------------------------

def _fks(catalog: Catalog, tables: list[Table], probe: Probe | None, notes: list[str]) -> list[ForeignKey]:
    by_label = {t.label: t for t in tables}
    out = []
    for fk in catalog.foreign_keys:
        if fk.table not in by_label or fk.ref_table not in by_label:
            continue
        if probe is not None:
            share = probe.containment(by_label[fk.table], fk.column, by_label[fk.ref_table], fk.ref_column)
            if share < 0.5:
                notes.append(f"{fk.table}.{fk.column} looks like a key to {fk.ref_table} but only "
                             f"{share:.0%} of its distinct values are there: not used as a foreign key")
                continue
            if share < 1:
                notes.append(f"{fk.table}.{fk.column}: {1 - share:.1%} of its distinct values are missing from "
                             f"{fk.ref_table}; a fact using it points them at the unknown member")
        out.append(fk)
    targets: dict[tuple[str, str], set[str]] = {}
    for fk in out:
        targets.setdefault((fk.table, fk.column), set()).add(fk.ref_table)
    for (table, column), refs in sorted(targets.items()):
        if len(refs) > 1:
            raise PlanError(
                f"{by_label[table].name}.{column} could point at several tables: "
                f"{', '.join(sorted(by_label[r].name for r in refs))}.",
                hint="Keep one `relationships` test on the column: the table it really points at.",
            )
    return out


def _ambiguous(tables: list[Table]) -> None:
    by_entity: dict[str, list[str]] = {}
    for t in tables:
        by_entity.setdefault(entity_of(t.name), []).append(t.name)
    for t in tables:
        for c in t.columns:
            if c.name.endswith("_id") and c.name != "id":
                choices = by_entity.get(singular(c.name[:-3]), [])
                if len(choices) > 1:
                    raise PlanError(
                        f"{t.name}.{c.name} could point at several tables: {', '.join(sorted(choices))}.",
                        hint="Declare the one you mean with a `relationships` test on the column, or "
                        "name the table in the description.",
                    )


def _role_key(column: str, entity: str) -> str:
    """customer_id -> customer_key; a column named after a role keeps it: buyer_id -> buyer_key."""
    role = re.sub(r"_?(id|key|sk)$", "", column)
    return f"{entity}_key" if role in ("", entity) else f"{role}_key"


def _cycle(fks: list[ForeignKey], start: set[str] | None = None) -> list[ForeignKey]:
    """The foreign keys of one cycle (a -> b -> ... -> a), [] if there is none (reachable from
    `start`, when given)."""
    edges: dict[str, list[ForeignKey]] = {}
    for fk in fks:
        edges.setdefault(fk.table, []).append(fk)
    done: set[str] = set()

    def visit(node: str, path: list[ForeignKey], on_path: dict[str, int]) -> list[ForeignKey]:
        for fk in edges.get(node, []):
            if fk.ref_table in on_path:
                return path[on_path[fk.ref_table]:] + [fk]
            if fk.ref_table in done:
                continue
            on_path[fk.ref_table] = len(path) + 1
            found = visit(fk.ref_table, [*path, fk], on_path)
            if found:
                return found
            del on_path[fk.ref_table]
        done.add(node)
        return []

    for root in sorted(edges if start is None else start):
        found = visit(root, [], {root: 0})
        if found:
            return found
    return []


def _acyclic(fks: list[ForeignKey], fact: Table | None, notes: list[str], by_label: dict[str, Table]) -> list[ForeignKey]:
    """Foreign keys without cycles. Roles come from the direction of the keys, so a cycle
    (orders -> customers -> orders) leaves no table at the finest grain: ask which one is the
    fact. Once the fact is named, keys pointing *at* it are not followed (it is the finest grain)."""
    name = lambda label: by_label[label].name if label in by_label else label  # noqa: E731
    out = []
    for fk in fks:
        if fk.table == fk.ref_table:
            notes.append(f"{name(fk.table)}.{fk.column} points at its own table (a hierarchy): not used as a key")
        elif fact is not None and fk.ref_table == fact.label:
            notes.append(f"{name(fk.table)}.{fk.column} points at the fact {fact.name}: not followed")
        else:
            out.append(fk)
    cycle = _cycle(out, {fact.label} if fact is not None else None)
    if cycle:
        shown = ", ".join(f"{name(fk.table)}.{fk.column} -> {name(fk.ref_table)}" for fk in cycle)
        raise PlanError(
            f"The foreign keys form a cycle ({shown}): which table is the fact and which are its "
            "dimensions is ambiguous.",
            hint="Name the fact in the description (\"<table> as the fact\"), or remove one of these "
            "relationships (a `relationships` test, or a column named like a key).",
        )
    return out


def _measure_columns(t: Table, fk_columns: set[str], probe: Probe | None) -> list[tuple[str, bool]]:
    """(column, is_text_number) of a table's numeric non-key columns."""
    out = []
    for c in t.columns:
        if _is_key(c.name) or c.name in fk_columns or c.name == t.primary_key:
            continue
        if c.family == "number":
            out.append((c.name, False))
        elif c.family == "text" and probe is not None and not c.values and probe.numeric_text(t, c.name):
            out.append((c.name, True))
    return out


def _fact_candidates(tables, fks, probe) -> tuple[list[Table], list[str]]:
    referenced = {fk.ref_table for fk in fks}
    out, reasons = [], []
    for t in tables:
        own = [fk for fk in fks if fk.table == t.label]
        measures = _measure_columns(t, {fk.column for fk in own}, probe)
        if own and measures and t.label not in referenced:
            out.append(t)
        elif t.label in referenced:
            reasons.append(f"{t.name}: other tables point at it ({', '.join(sorted({fk.table.split('.')[-1] for fk in fks if fk.ref_table == t.label}))}), so it is not the finest grain")
        elif not own:
            reasons.append(f"{t.name}: no foreign keys to other tables")
        else:
            reasons.append(f"{t.name}: no numeric measures")
    out.sort(key=lambda t: (-len([f for f in fks if f.table == t.label]), -(t.row_count or 0), t.name))
    return out, reasons


# -- staging --------------------------------------------------------------------------------

def plan_staging(t: Table, catalog: Catalog, probe: Probe | None, notes: list[str], *, grain_of: str | None = None) -> StagingSpec:
    """`stg_<source>__<table>`; `grain_of` names the model whose grain this table's key is (for
    the message when the data contradicts it)."""
    entity = entity_of(t.name)
    existing = catalog.table(f"stg_{t.source_name}__{t.name}")
    name = f"stg_{t.source_name}__{t.name}"
    if existing is not None:
        cols = [StagedColumn(name=c.name, source_column=c.name, data_type=c.data_type.lower()) for c in existing.columns]
        return StagingSpec(name=name, source_name=t.source_name or "", table=t.name,
                           key=existing.primary_key or cols[0].name, columns=cols, existing=True)
    key = t.primary_key or "id"
    cols = []
    for c in t.columns:
        clean = f"{entity}_id" if c.name == "id" else c.name.lower()
        if clean in KEYWORD_NAMES:  # sqlfluff RF04, and clearer in a mart: name -> product_name
            clean = f"{entity}_{clean}"
        transform, dtype = "none", c.data_type.lower()
        if c.family == "text" and c.values and any(v != v.strip().lower() for v in c.values):
            transform = "trim_lower"
        elif c.family == "text" and not _is_key(c.name) and probe is not None and not c.values and probe.numeric_text(t, c.name):
            transform, dtype = "cast_number", "decimal(18,2)"
        cols.append(StagedColumn(name=clean, source_column=c.name, data_type=dtype, transform=transform))
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
        notes.append(f"{name}: {t.name}.{key} repeats (late-arriving updates): keeps the latest row per {key} by {order}")
    return spec


def _col(stg: StagingSpec, raw: str) -> str:
    return next((c.name for c in stg.columns if c.source_column == raw), raw)


# -- the planner ----------------------------------------------------------------------------

def source_tables(catalog: Catalog, source: str | None) -> tuple[str, list[Table]]:
    """The source to model (`source`, or the catalog's only one) and its tables."""
    sources = sorted({t.source_name for t in catalog.tables if t.kind == "source" and t.source_name})
    if source is not None and source not in sources:
        raise UsageError(f"No source named '{source}'.", hint="Sources: " + (", ".join(sources) or "none"))
    if source is None:
        if len(sources) != 1:
            raise UsageError("Which source? The project has " + (", ".join(sources) or "no sources") + ".",
                             hint="Pass --from-source SOURCE.")
        source = sources[0]
    return source, [t for t in catalog.tables if t.kind == "source" and t.source_name == source]


def plan_star(
    catalog: Catalog,
    description: str | None,
    *,
    source: str | None = None,
    snowflake: bool = False,
    area: str | None = None,
    probe: Probe | None = None,
) -> StarSpec:
    source, tables = source_tables(catalog, source)
    notes: list[str] = []
    reasons: list[str] = []
    _ambiguous(tables)
    fks = _fks(catalog, tables, probe, notes)

    named_fact, named_dims, want_dates, area_word = None, None, True, None
    if description:
        ix, words = star_index(tables), words_of(description)
        links = link_words(words, ix, {t.label: t for t in tables})
        mentions, unplaced, area_word = links.mentions, links.unplaced, links.area
        notes += links.readings
        if unplaced:
            close = {w: closest(w, ix, n=2, kinds=TABLES) for w in unplaced}
            shown = ", ".join(f"'{w}'" + (f" (closest: {', '.join(c)})" if c else "") for w, c in close.items())
            raise PlanError(
                f"The description names what source '{source}' does not have: {shown}.",
                hint=f"It has: {', '.join(t.name for t in tables)}. Rephrase with those, or use --llm MODEL.",
            )
        named_fact = explicit_fact(words, mentions)
        named = [m for _, m in mentions if isinstance(m, Table)]
        want_dates = any(m == "date" for _, m in mentions) or not named
        named_dims = [t for i, t in enumerate(named) if t is not named_fact and t.label not in {x.label for x in named[:i]}] if named else None

    fks = _acyclic(fks, named_fact, notes, {t.label: t for t in tables})
    candidates, rejected = _fact_candidates(tables, fks, probe)
    if named_fact is not None:
        fact_tables = [named_fact]
        if named_fact not in candidates:
            notes.append(f"{named_fact.name} is the fact because the description says so")
    elif named_dims:
        reach = [c for c in candidates if all(d.label in _reachable(c, fks) for d in named_dims if d is not c)]
        fact_tables = reach[:1] or candidates[:1]
        if named_dims and fact_tables and fact_tables[0] in named_dims:
            named_dims.remove(fact_tables[0])
    else:
        fact_tables = candidates
    if not fact_tables:
        raise PlanError(
            f"Source '{source}' has no plausible fact: no table has both numeric measures and keys "
            "to other tables that nothing else points at.",
            hint="Why: " + "; ".join(rejected) + ". Name the fact in the description (\"X as the fact\").",
        )

    by_label = {t.label: t for t in tables}
    staging: dict[str, StagingSpec] = {}

    def stg(t: Table) -> StagingSpec:
        if t.label not in staging:
            grain_of = f"fct_{t.name}" if t in fact_tables else None
            staging[t.label] = plan_staging(t, catalog, probe, notes, grain_of=grain_of)
        return staging[t.label]

    dims: dict[str, StarDimension] = {}
    facts: list[StarFact] = []
    date_columns: list[tuple[Table, str]] = []
    used_by_fact: set[str] = set()
    for ft in fact_tables:
        fstg = stg(ft)
        own = [fk for fk in fks if fk.table == ft.label]
        fk_cols = {fk.column for fk in own}
        fact = StarFact(name=f"fct_{ft.name}", process=ft.name, base=fstg.name, grain=[fstg.key])
        used_by_fact.add(ft.label)
        targets: list[tuple[str, ForeignKey]] = [("fact", fk) for fk in own]
        for fk in own:
            parent = by_label[fk.ref_table]
            parent_fks = [p for p in fks if p.table == parent.label]
            if parent_fks and (named_dims is None or parent not in named_dims):
                pstg = stg(parent)
                alias = parent.name
                fact.parents.append(ParentJoin(alias=alias, base=pstg.name, fact_column=_col(fstg, fk.column), parent_key=pstg.key))
                fact.degenerate.append(DegenerateDimension(name=_col(fstg, fk.column), column=_col(fstg, fk.column)))
                for c in parent.columns:
                    if c.family == "text" and c.values and not _is_key(c.name):
                        fact.degenerate.append(DegenerateDimension(name=f"{entity_of(parent.name)}_{c.name}", input=alias, column=_col(pstg, c.name)))
                    if c.family == "time" and not BOOKKEEPING.match(c.name):
                        date_columns.append((parent, c.name))
                        fact.foreign_keys.append(FactForeignKey(name=f"{date_role(c.name)}_date_key", dimension="dim_date", input=alias, column=_col(pstg, c.name), role="date"))
                targets.remove(("fact", fk))
                targets += [(alias, p) for p in parent_fks]
                used_by_fact.add(parent.label)
                reasons.append(f"{parent.name}: header of {ft.name} ({ft.name}.{fk.column} -> {parent.name}); it points "
                               f"on to {', '.join(by_label[p.ref_table].name for p in parent_fks)}, so its key, "
                               "dates and attributes go into the fact and its keys are carried down through the join")
                measures = _measure_columns(parent, {p.column for p in parent_fks}, probe)
                if measures:
                    notes.append(f"{parent.name} measures ({', '.join(m for m, _ in measures)}) are at the "
                                 f"{entity_of(parent.name)} grain: left out of {fact.name} so sums don't double")
        for c in ft.columns:
            if c.family == "time" and not BOOKKEEPING.match(c.name):
                date_columns.append((ft, c.name))
                fact.foreign_keys.append(FactForeignKey(name=f"{date_role(c.name)}_date_key", dimension="dim_date", input="fact", column=_col(fstg, c.name), role="date"))
        for alias, fk in targets:
            dt = by_label[fk.ref_table]
            if named_dims is not None and dt not in named_dims:
                notes.append(f"{dt.name} is reachable from {ft.name} but was not asked for: left out")
                continue
            dstg = stg(dt)
            ent = entity_of(dt.name)
            if f"dim_{ent}" not in dims:
                dims[f"dim_{ent}"] = _dimension(dt, dstg, snowflake)
                reasons.append(f"{dt.name}: dimension dim_{ent} ({fk.table.split('.')[-1]}.{fk.column} -> {dt.name}.{fk.ref_column})")
            src_stg = fstg if alias == "fact" else staging[next(p.label for p in tables if p.name == alias)]
            key = FactForeignKey(name=_role_key(fk.column, ent), dimension=f"dim_{ent}", input=alias, column=_col(src_stg, fk.column))
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
        for m, _text in _measure_columns(ft, fk_cols, probe):
            col = _col(fstg, m)
            additivity = "non_additive" if NON_ADDITIVE.search(m) else "semi_additive" if SEMI_ADDITIVE.search(m) else "additive"
            fact.measures.append(FactMeasure(name=col, column=col, additivity=additivity))
        if not want_dates:
            fact.foreign_keys = [f for f in fact.foreign_keys if f.role != "date"]
        reasons.insert(0, f"{ft.name}: fact {fact.name}, one row per {entity_of(ft.name)} ({fstg.key}); measures "
                       f"{', '.join(m.name for m in fact.measures)}; keys to {', '.join(sorted({fk.dimension for fk in fact.foreign_keys}))}")
        facts.append(fact)

    if named_dims:
        missing = [d.name for d in named_dims if f"dim_{entity_of(d.name)}" not in dims]
        if missing:
            raise PlanError(
                f"No path of foreign keys from {', '.join(f.process for f in facts)} to {', '.join(missing)}.",
                hint="Name another fact, or declare the relationship with a `relationships` test.",
            )
    for t in tables:
        if t.label not in used_by_fact and f"dim_{entity_of(t.name)}" not in dims:
            why = next((r for r in rejected if r.startswith(t.name + ":")), f"{t.name}: not needed by the facts")
            reasons.append(why + " -> not used")

    date_dim = None
    if want_dates and any(fk.role == "date" for f in facts for fk in f.foreign_keys):
        rng = probe.date_range(date_columns) if probe is not None else None
        if rng is None:
            start, end = "2000-01-01", "2031-01-01"
            notes.append("dim_date covers 2000-2030: the data's date range was not checked")
        else:
            start, end = f"{rng[0].year}-01-01", f"{rng[1].year + 1}-01-01"
        date_dim = DateDimension(start_date=start, end_date=end, reason=f"dates of {', '.join(f'{t.name}.{c}' for t, c in date_columns)}")
        reasons.append(f"dates: dim_date from {start} to {end} (exclusive), role-playing for "
                       + ", ".join(dict.fromkeys(f.name for fct in facts for f in fct.foreign_keys if f.role == "date")))

    out_dims = list(dims.values())
    if snowflake:
        for d in list(out_dims):
            for o in d.outriggers:
                ent = o.dimension.removeprefix("dim_")
                out_dims.append(StarDimension(name=o.dimension, entity=ent, base=d.base, natural_key=o.attribute,
                                              distinct_of=o.attribute, reason=f"snowflake: {o.attribute} of {d.name}"))
                reasons.append(f"{o.attribute}: snowflaked out of {d.name} into {o.dimension}")
    chosen_area = area or area_word or "core"
    star = StarSpec(area=chosen_area, source_name=source, staging=list(staging.values()), dimensions=out_dims,
                    date_dimension=date_dim, facts=facts, snowflake=snowflake, request=description or "",
                    planner="offline", reasons=reasons, notes=notes)
    return infer_measure_tests(star, catalog, probe)


def infer_measure_tests(star: StarSpec, catalog: Catalog, probe: Probe | None) -> StarSpec:
    """Give every fact measure the tests its staged data supports (martsmith.inference: a
    profile, the evidence policy's not_negative / accepted_range with its margins, each checked
    against the data). A test the data violates is not kept: it becomes a note with examples.
    Works on any planner's StarSpec; measures are updated in place."""
    if probe is None:
        if any(f.measures for f in star.facts):
            star.notes.append("measure tests were not inferred: the data was not profiled")
        return star
    for f in star.facts:
        bases = {"fact": f.base} | {p.alias: p.base for p in f.parents}
        by_base: dict[str, list] = {}
        for m in f.measures:
            by_base.setdefault(bases[m.input], []).append(m)
        for base, measures in by_base.items():
            stg = star.staging_model(base)
            table = None if stg is None else catalog.table(stg.name if stg.existing else f"source:{stg.source_name}.{stg.table}")
            if stg is None or table is None:
                star.notes.append(f"{f.name}: measures of {base} were not profiled (no staging model planned for it)")
                continue
            checks = probe.measure_checks(stg, table, [m.column for m in measures])
            for m in measures:
                for c in (c for c in checks if c.test.column == m.column):
                    if c.passed:
                        m.tests.append(c.test)
                    elif not c.dropped:
                        star.notes.append(f"{f.name}.{m.name}: {c.message}: no {c.test.name} test (fix the data, then add it)")
    return star


def _reachable(t: Table, fks: list[ForeignKey]) -> set[str]:
    seen: set[str] = set()
    todo = [t.label]
    while todo:
        cur = todo.pop()
        for fk in fks:
            if fk.table == cur and fk.ref_table not in seen:
                seen.add(fk.ref_table)
                todo.append(fk.ref_table)
    return seen


def _dimension(t: Table, stg: StagingSpec, snowflake: bool) -> StarDimension:
    ent = entity_of(t.name)
    attrs = [c.name for c in stg.columns if c.name != stg.key and not BOOKKEEPING.match(c.name) and not c.name.endswith("_id")]
    outriggers = []
    if snowflake:
        for c in t.columns:
            if c.name in OUTRIGGER_NAMES and c.family == "text":
                outriggers.append(Outrigger(attribute=_col(stg, c.name), dimension=f"dim_{c.name}"))
    return StarDimension(name=f"dim_{ent}", entity=ent, base=stg.name, natural_key=stg.key, attributes=attrs,
                         outriggers=outriggers, reason=f"referenced by the fact through {t.name}")
