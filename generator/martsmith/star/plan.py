"""The offline star planner: description (or just a source) + catalog -> `StarSpec`.

Roles come from the keys: the fact is the table at the finest grain with numeric measures and
foreign keys to others (nothing points at it); a table the fact points at that itself points
further (orders -> customers) is a *header*, folded into the fact (its dates, its degenerate
attributes, its keys carried down through the join); the other tables reached are dimensions.
Every choice is written to `reasons`; words it cannot place are an error, never a guess.

`plan_star` is a pipeline: `PASSES` is a tuple of small passes over one `StarPlan`
(star/state.py), applied in order; each fact is drafted by star/facts.py's `FACT_PASSES`. The
description is linked by star/link.py through the model planner's linker and vocabulary
(plan/linking.py, plan/lexicon.py); staging models are planned by star/staging.py.

>>> [p.__name__ for p in PASSES]  # doctest: +NORMALIZE_WHITESPACE
['check_key_names', 'foreign_keys', 'link_request', 'acyclic', 'fact_candidates', 'choose_facts',
 'draft_facts', 'check_dimensions_reached', 'explain_unused', 'date_dimension', 'snowflake',
 'assemble', 'measure_tests']
>>> from martsmith.context.catalog import Column, infer_foreign_keys
>>> def table(name, *cols):
...     return Table("source", name, "raw", name, source_name="shop", primary_key="id",
...                  columns=[Column(c, "DOUBLE" if c == "amount" else "INTEGER") for c in ("id", *cols)])
>>> tables = [table("customers"), table("orders", "customer_id", "amount")]
>>> star = plan_star(Catalog(tables, infer_foreign_keys(tables, [])), "orders with customers")
>>> [f.name for f in star.facts], [d.name for d in star.dimensions], star.facts[0].measures[0].name
(['fct_orders'], ['dim_customer'], 'amount')
"""

from __future__ import annotations

from martsmith.context.catalog import Catalog, ForeignKey, Table, entity_of, singular
from martsmith.errors import PlanError, UsageError
from martsmith.plan.linking import TABLES, closest
from martsmith.star.facts import FACT_PASSES, draft_fact, measure_columns
from martsmith.star.facts import date_role as date_role
from martsmith.star.link import explicit_fact, link_words, star_index, words_of
from martsmith.star.link import link_description as link_description
from martsmith.star.probe import Probe
from martsmith.star.spec import DateDimension, StarDimension, StarSpec
from martsmith.star.staging import staged_name
from martsmith.star.state import Pass, StarPlan

# -- following foreign keys -------------------------------------------------------------------


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
                return path[on_path[fk.ref_table] :] + [fk]
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


# -- the passes -----------------------------------------------------------------------------


def check_key_names(plan: StarPlan) -> StarPlan:
    """Raise when a `<entity>_id` column could point at several tables of that entity
    (customers and customer): roles come from keys, so the planner must not guess one."""
    by_entity: dict[str, list[str]] = {}
    for t in plan.tables:
        by_entity.setdefault(entity_of(t.name), []).append(t.name)
    for t in plan.tables:
        for c in t.columns:
            if c.name.endswith("_id") and c.name != "id":
                choices = by_entity.get(singular(c.name[:-3]), [])
                if len(choices) > 1:
                    raise PlanError(
                        f"{t.name}.{c.name} could point at several tables: {', '.join(sorted(choices))}.",
                        hint="Declare the one you mean with a `relationships` test on the column, or "
                        "name the table in the description.",
                    )
    return plan


def _onto_sources(catalog: Catalog, by_label: dict[str, Table]) -> list[ForeignKey]:
    """The catalog's foreign keys, those that point at the project's staging model of a source
    table pointed at that table instead (order_items.product_id -> stg_products.product_id is
    -> products.id): the star is planned over the source's tables, and reads staging later."""
    of_staging = {model: source for source, model in catalog.staging.items() if source in by_label}
    have = {(f.table, f.column) for f in catalog.foreign_keys if f.ref_table in by_label}
    out = []
    for fk in catalog.foreign_keys:
        source = of_staging.get(fk.ref_table)
        if source is not None and (fk.table, fk.column) not in have:
            t, model = by_label[source], catalog.table(fk.ref_table)
            entity = entity_of(t.name)
            column = next((c.name for c in t.columns if staged_name(c.name, entity) == fk.ref_column), None)
            column = column or (fk.ref_column if t.column(fk.ref_column) else None)
            if column is not None and model is not None:
                fk = ForeignKey(fk.table, fk.column, source, column, fk.origin, fk.cast)
        out.append(fk)
    return out


def foreign_keys(plan: StarPlan) -> StarPlan:
    """The catalog's foreign keys between the source's tables, less those the data refutes
    (under half of the distinct values found in the target, with a probe); raise when one
    column points at several tables."""
    by_label = plan.by_label
    out = []
    for fk in _onto_sources(plan.catalog, by_label):
        if fk.table not in by_label or fk.ref_table not in by_label:
            continue
        if plan.probe is not None:
            share = plan.probe.containment(by_label[fk.table], fk.column, by_label[fk.ref_table], fk.ref_column)
            if share < 0.5:
                plan.notes.append(
                    f"{fk.table}.{fk.column} looks like a key to {fk.ref_table} but only "
                    f"{share:.0%} of its distinct values are there: not used as a foreign key"
                )
                continue
            if share < 1:
                plan.notes.append(
                    f"{fk.table}.{fk.column}: {1 - share:.1%} of its distinct values are missing from "
                    f"{fk.ref_table}; a fact using it points them at the unknown member"
                )
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
    plan.fks = out
    return plan


def link_request(plan: StarPlan) -> StarPlan:
    """What the description names: the fact ('order lines as the fact'), the dimensions (the
    other tables named; all reached when none is), whether dates are wanted, the area word.
    A word it cannot place raises, with the closest table names; a word read through a
    synonym is noted."""
    if not plan.description:
        return plan
    ix = star_index(plan.tables)
    words = words_of(plan.description)
    links = link_words(words, ix, plan.by_label)
    if links.unplaced:
        close = {w: closest(w, ix, n=2, kinds=TABLES) for w in links.unplaced}
        shown = ", ".join(f"'{w}'" + (f" (closest: {', '.join(c)})" if c else "") for w, c in close.items())
        raise PlanError(
            f"The description names what source '{plan.source}' does not have: {shown}.",
            hint=f"It has: {', '.join(t.name for t in plan.tables)}. Rephrase with those, or use --llm MODEL.",
        )
    plan.area_word = links.area
    plan.notes += links.readings
    plan.named_fact = explicit_fact(words, links.mentions)
    named = [m for _, m in links.mentions if isinstance(m, Table)]
    plan.want_dates = any(m == "date" for _, m in links.mentions) or not named
    if named:
        plan.named_dims = [
            t for i, t in enumerate(named) if t is not plan.named_fact and t.label not in {x.label for x in named[:i]}
        ]
    return plan


def acyclic(plan: StarPlan) -> StarPlan:
    """Foreign keys without cycles. Roles come from the direction of the keys, so a cycle
    (orders -> customers -> orders) leaves no table at the finest grain: ask which one is the
    fact. Once the fact is named, keys pointing *at* it are not followed (it is the finest grain)."""
    by_label, fact = plan.by_label, plan.named_fact
    name = lambda label: by_label[label].name if label in by_label else label  # noqa: E731
    out = []
    for fk in plan.fks:
        if fk.table == fk.ref_table:
            plan.notes.append(f"{name(fk.table)}.{fk.column} points at its own table (a hierarchy): not used as a key")
        elif fact is not None and fk.ref_table == fact.label:
            plan.notes.append(f"{name(fk.table)}.{fk.column} points at the fact {fact.name}: not followed")
        else:
            out.append(fk)
    cycle = _cycle(out, {fact.label} if fact is not None else None)
    if cycle:
        shown = ", ".join(f"{name(fk.table)}.{fk.column} -> {name(fk.ref_table)}" for fk in cycle)
        raise PlanError(
            f"The foreign keys form a cycle ({shown}): which table is the fact and which are its "
            "dimensions is ambiguous.",
            hint='Name the fact in the description ("<table> as the fact"), or remove one of these '
            "relationships (a `relationships` test, or a column named like a key).",
        )
    plan.fks = out
    return plan


def fact_candidates(plan: StarPlan) -> StarPlan:
    """Tables that could be facts (numeric measures, keys to others, nothing points at them),
    most keys and rows first; why each other table is not one goes to `rejected`."""
    fks = plan.fks
    referenced = {fk.ref_table for fk in fks}
    for t in plan.tables:
        own = [fk for fk in fks if fk.table == t.label]
        measures = measure_columns(t, {fk.column for fk in own}, plan.probe)
        if own and measures and t.label not in referenced:
            plan.candidates.append(t)
        elif t.label in referenced:
            pointing = ", ".join(sorted({fk.table.split(".")[-1] for fk in fks if fk.ref_table == t.label}))
            plan.rejected.append(f"{t.name}: other tables point at it ({pointing}), so it is not the finest grain")
        elif not own:
            plan.rejected.append(f"{t.name}: no foreign keys to other tables")
        else:
            plan.rejected.append(f"{t.name}: no numeric measures")
    plan.candidates.sort(key=lambda t: (-len([f for f in fks if f.table == t.label]), -(t.row_count or 0), t.name))
    return plan


def choose_facts(plan: StarPlan) -> StarPlan:
    """The fact named; else the first candidate that reaches every dimension named (the first
    candidate when none does); else, from a bare source, every candidate. Raise when there is none."""
    if plan.named_fact is not None:
        plan.fact_tables = [plan.named_fact]
        if plan.named_fact not in plan.candidates:
            plan.notes.append(f"{plan.named_fact.name} is the fact because the description says so")
    elif plan.named_dims:
        dims = plan.named_dims
        reach = [c for c in plan.candidates if all(d.label in _reachable(c, plan.fks) for d in dims if d is not c)]
        plan.fact_tables = reach[:1] or plan.candidates[:1]
        if plan.fact_tables and plan.fact_tables[0] in dims:
            dims.remove(plan.fact_tables[0])
    else:
        plan.fact_tables = list(plan.candidates)
    if not plan.fact_tables:
        raise PlanError(
            f"Source '{plan.source}' has no plausible fact: no table has both numeric measures and keys "
            "to other tables that nothing else points at.",
            hint="Why: " + "; ".join(plan.rejected) + '. Name the fact in the description ("X as the fact").',
        )
    return plan


def draft_facts(plan: StarPlan) -> StarPlan:
    """Each fact table drafted by star/facts.py's FACT_PASSES in turn (headers, dates,
    dimension keys, measures); staging models and dimensions are planned as facts first need them."""
    for t in plan.fact_tables:
        draft = draft_fact(plan, t)
        for fact_pass in FACT_PASSES:
            draft = fact_pass(plan, draft)
        plan.facts.append(draft.fact)
    return plan


# -- after the facts ------------------------------------------------------------------------


def check_dimensions_reached(plan: StarPlan) -> StarPlan:
    """Raise when a table the description names as a dimension is not reached by the facts."""
    if plan.named_dims:
        missing = [d.name for d in plan.named_dims if f"dim_{entity_of(d.name)}" not in plan.dims]
        if missing:
            raise PlanError(
                f"No path of foreign keys from {', '.join(f.process for f in plan.facts)} to {', '.join(missing)}.",
                hint="Name another fact, or declare the relationship with a `relationships` test.",
            )
    return plan


def explain_unused(plan: StarPlan) -> StarPlan:
    """A reason for each table that got no role."""
    for t in plan.tables:
        if t.label not in plan.used_by_fact and f"dim_{entity_of(t.name)}" not in plan.dims:
            why = next((r for r in plan.rejected if r.startswith(t.name + ":")), f"{t.name}: not needed by the facts")
            plan.reasons.append(why + " -> not used")
    return plan


def date_dimension(plan: StarPlan) -> StarPlan:
    """dim_date over the whole years of the dates the facts use (2000-2030 without a probe),
    when a fact has a date key."""
    if not (plan.want_dates and any(fk.role == "date" for f in plan.facts for fk in f.foreign_keys)):
        return plan
    rng = plan.probe.date_range(plan.date_columns) if plan.probe is not None else None
    if rng is None:
        start, end = "2000-01-01", "2031-01-01"
        plan.notes.append("dim_date covers 2000-2030: the data's date range was not checked")
    else:
        start, end = f"{rng[0].year}-01-01", f"{rng[1].year + 1}-01-01"
    plan.date_dimension = DateDimension(
        start_date=start, end_date=end, reason=f"dates of {', '.join(f'{t.name}.{c}' for t, c in plan.date_columns)}"
    )
    roles = dict.fromkeys(f.name for fct in plan.facts for f in fct.foreign_keys if f.role == "date")
    plan.reasons.append(f"dates: dim_date from {start} to {end} (exclusive), role-playing for " + ", ".join(roles))
    return plan


def snowflake(plan: StarPlan) -> StarPlan:
    """The dimensions; snowflaked, each outrigger (a product's category) a dimension of its own."""
    plan.dimensions = list(plan.dims.values())
    if plan.snowflake:
        for d in list(plan.dimensions):
            for o in d.outriggers:
                ent = o.dimension.removeprefix("dim_")
                plan.dimensions.append(
                    StarDimension(
                        name=o.dimension,
                        entity=ent,
                        base=d.base,
                        natural_key=o.attribute,
                        distinct_of=o.attribute,
                        reason=f"snowflake: {o.attribute} of {d.name}",
                    )
                )
                plan.reasons.append(f"{o.attribute}: snowflaked out of {d.name} into {o.dimension}")
    return plan


def assemble(plan: StarPlan) -> StarPlan:
    """The StarSpec, in the area asked for, else the description's area word, else 'core'."""
    plan.spec = StarSpec(
        area=plan.area or plan.area_word or "core",
        source_name=plan.source,
        staging=list(plan.staging.values()),
        dimensions=plan.dimensions,
        date_dimension=plan.date_dimension,
        facts=plan.facts,
        snowflake=plan.snowflake,
        request=plan.description or "",
        planner="offline",
        reasons=plan.reasons,
        notes=plan.notes,
    )
    return plan


def measure_tests(plan: StarPlan) -> StarPlan:
    """The tests each measure's data supports (infer_measure_tests)."""
    if plan.spec is not None:
        plan.spec = infer_measure_tests(plan.spec, plan.catalog, plan.probe)
    return plan


PASSES: tuple[Pass, ...] = (
    check_key_names,
    foreign_keys,
    link_request,
    acyclic,
    fact_candidates,
    choose_facts,
    draft_facts,
    check_dimensions_reached,
    explain_unused,
    date_dimension,
    snowflake,
    assemble,
    measure_tests,
)


# -- the planner ----------------------------------------------------------------------------


def source_tables(catalog: Catalog, source: str | None) -> tuple[str, list[Table]]:
    """The source to model (`source`, or the catalog's only one) and its tables."""
    sources = sorted({t.source_name for t in catalog.tables if t.kind == "source" and t.source_name})
    if source is not None and source not in sources:
        raise UsageError(f"No source named '{source}'.", hint="Sources: " + (", ".join(sources) or "none"))
    if source is None:
        if len(sources) != 1:
            raise UsageError(
                "Which source? The project has " + (", ".join(sources) or "no sources") + ".",
                hint="Pass --from-source SOURCE.",
            )
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
    """The star schema of a source's tables (the one source, or `source`), shaped by the
    description when there is one: PASSES applied in turn to one StarPlan."""
    source, tables = source_tables(catalog, source)
    plan = StarPlan(
        catalog=catalog,
        source=source,
        tables=tables,
        description=description,
        snowflake=snowflake,
        area=area,
        probe=probe,
    )
    for star_pass in PASSES:
        plan = star_pass(plan)
    assert plan.spec is not None  # `assemble` is one of the passes
    return plan.spec


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
            table = (
                None
                if stg is None
                else catalog.table(stg.name if stg.existing else f"source:{stg.source_name}.{stg.table}")
            )
            if stg is None or table is None:
                star.notes.append(f"{f.name}: measures of {base} were not profiled (no staging model planned for it)")
                continue
            checks = probe.measure_checks(stg, table, [m.column for m in measures])
            for m in measures:
                for c in (c for c in checks if c.test.column == m.column):
                    if c.passed:
                        m.tests.append(c.test)
                    elif not c.dropped:
                        star.notes.append(
                            f"{f.name}.{m.name}: {c.message}: no {c.test.name} test (fix the data, then add it)"
                        )
    return star
