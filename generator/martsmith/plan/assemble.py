"""From an `Intent` to a `ModelSpec`: base table, join paths, inputs, names and descriptions.

The base (fact) table is the table of the measures that would double count if rows repeated
(sum, avg, count of rows). Every other table is joined along many-to-one foreign keys outward
from the base; a table that can only be reached one-to-many is refused (fan-out).
"""

from __future__ import annotations

import re

from martsmith.context.catalog import Catalog, Column, Table, entity_of, singular
from martsmith.errors import PlanError, UsageError
from martsmith.plan import lexicon as lx
from martsmith.plan.intent import DimensionIntent, FilterIntent, Intent, MeasureIntent, OrderIntent
from martsmith.plan.joins import Path, distance, shortest_paths
from martsmith.spec import (
    DimensionSpec,
    ExistsSpec,
    FilterSpec,
    HavingSpec,
    InputSpec,
    JoinSpec,
    MeasureSpec,
    ModelSpec,
    OrderSpec,
    PivotSpec,
    RatioSpec,
    RelativeDate,
    WindowSpec,
    check_identifier,
)

_UNSAFE = ("sum", "avg", "count")
_PREFIX = {"sum": "total", "avg": "avg", "min": "min", "max": "max", "count": "count", "count_distinct": "distinct"}


def snake(text: str) -> str:
    """A valid identifier from free text: 'Order Amount' -> 'order_amount'."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return s if s and s[0].isalpha() else f"c_{s}" if s else "value"


def main_time_column(table: Table) -> Column | None:
    """The table's event timestamp: a time column named after the entity (ordered_at for
    orders), else a non-bookkeeping one (created_at before updated_at), fewest nulls first."""
    ent = lx.stem(entity_of(table.name))

    def rank(ic: tuple[int, Column]) -> tuple:
        i, c = ic
        words = lx.name_words(c.name)
        stems = {lx.stem(w) for w in words}
        return (bool(set(words) & lx.BOOKKEEPING_TIME), ent not in stems, "created" not in words, c.null_count or 0, i)

    times = [(i, c) for i, c in enumerate(table.columns) if c.family == "time"]
    return min(times, key=rank)[1] if times else None


def latest_column(table: Table) -> Column | None:
    """The column that orders versions of a row: updated_at-like first, else the event time."""
    for c in table.columns:
        if c.family == "time" and set(lx.name_words(c.name)) & lx.BOOKKEEPING_TIME - {"deleted"}:
            return c
    return main_time_column(table)


class _Assembler:
    def __init__(self, intent: Intent, catalog: Catalog, request: str) -> None:
        self.i, self.catalog, self.request = intent, catalog, request
        self.tables = {t.label: t for t in catalog.tables}
        self.notes = list(intent.notes)
        self.words = {lx.stem(w) for w in lx.name_words(request)}

    # ---- base table ----------------------------------------------------------------------
    def _needed(self) -> set[str]:
        out = {d.table for d in self.i.dimensions if d.table}
        out |= {f.table for f in self.i.filters if f.table}
        out |= {d.table for d in self.i.dates if d.table}
        out |= {m.table for m in self.i.measures if m.table}
        return out

    def _nearest_reaching(self, needed: set[str]) -> str | None:
        """The table that reaches every needed table many-to-one by the shortest paths."""
        feasible = []
        for t in sorted(self.tables):
            paths = shortest_paths(self.catalog, t)
            if needed <= set(paths):
                feasible.append((sum(len(paths[n][0]) for n in needed), t))
        return min(feasible)[1] if feasible else None

    def _listing_base(self) -> str:
        """A listing reads the rows of its subject (or of the one table that reaches every
        column it lists many-to-one)."""
        i = self.i
        needed = self._needed() | {o.table for o in i.order if o.table}
        # A source and the model built on it are one entity at two layers: list the downstream one.
        layered = {t for t in needed for u in needed if t != u and self.catalog.is_upstream_of(t, u)}
        if layered:
            down = {t: next(u for u in needed if u != t and self.catalog.is_upstream_of(t, u)) for t in layered}
            items: list[DimensionIntent | FilterIntent | OrderIntent] = [*i.dimensions, *i.filters, *i.order]
            for item in items:
                u = down.get(item.table or "")
                if u is None:
                    continue
                if item.column is None or self.tables[u].column(item.column) is not None:
                    item.table = u
                    continue
                renamed = f"{entity_of(self.tables[u].name)}_{item.column}"  # staging's name -> product_name
                col = self.tables[u].column(renamed)
                if col is not None:
                    item.table, item.column = u, col.name
            needed = {x.table for x in items if x.table} | (needed - layered)
            i.subjects = [down.get(t, t) for t in i.subjects]
            self.notes.append(
                "Read "
                + ", ".join(f"{self.tables[u].name} (built on {self.tables[t].name})" for t, u in sorted(down.items()))
                + ": one entity at two layers."
            )
        order = list(dict.fromkeys(i.subjects + [d.table for d in i.dimensions if d.table] + sorted(needed)))
        for b in order:
            if needed <= set(shortest_paths(self.catalog, b)):
                return b
        # 'singer names in concerts in 2014': the table that links them (one row per pair).
        base = self._nearest_reaching(needed)
        if base is not None:
            self.notes.append(
                f"One row per {self.tables[base].name} row: the table that links "
                + ", ".join(sorted(self.tables[n].name for n in needed))
                + "."
            )
            return base
        names = ", ".join(sorted(self.tables[t].name for t in needed))
        raise PlanError(
            f"No one table reaches {names} many-to-one: a listing of their rows would repeat rows.",
            hint="List the columns of one table and those it refers to, or use --llm MODEL.",
        )

    def _active_entities(self) -> None:
        """'number of distinct riders per month': riders active in the month, counted on the one
        table that refers to them and has its own event time (the trips), not their signup."""
        i = self.i
        timed = [d for d in i.dimensions if d.grain and d.table is None]
        counted = [m for m in i.measures if m.agg == "count_distinct" and m.column is None and m.table]
        if not timed or len(counted) != 1 or len(i.measures) != 1:
            return
        ent = str(counted[0].table)
        facts = sorted(
            {
                f.table
                for f in self.catalog.foreign_keys
                if f.ref_table == ent and main_time_column(self.tables[f.table]) is not None
            }
        )
        if len(facts) > 1:
            raise PlanError(
                f"'{' '.join(counted[0].words)}' per {timed[0].grain}: active in which table "
                + ", ".join(self.tables[f].name for f in facts)
                + "?",
                hint="Name the event, e.g. 'distinct customers with orders per month'.",
            )
        if facts:
            self.notes.append(
                f"Distinct {self.tables[ent].name} per {timed[0].grain}: those with {self.tables[facts[0]].name} "
                f"in the {timed[0].grain}, dated by {self.tables[facts[0]].name}."
            )
            for d in timed:
                d.table = facts[0]
            i.subjects = [facts[0], *i.subjects]

    def choose_base(self) -> str:
        i = self.i
        if i.latest:
            return i.latest
        if i.kind == "listing":
            return self._listing_base()
        if not i.measures:
            # 'employees per year' names the rows to count; so does 'employees hired per year',
            # where the table word qualifies the date column.
            counted = i.subjects or [t for t in i.qualifiers if t not in {f.table for f in i.filters}]
            if counted and not i.dimensions and not i.limit and not i.share:
                # No count word and nothing to group by: 'stations opened before 2020' asks for
                # the stations themselves. A count of them would be a different answer, exit 0.
                name = self.tables[counted[0]].name
                raise PlanError(
                    f"This reads as a list of {name} rows (no 'number of' / 'how many', no 'per' / 'by'): "
                    "the offline planner does not build listings yet.",
                    hint=f"Ask for a count ('number of {name} ...') or a grouping, or use --llm MODEL.",
                )
            if counted:
                t = counted[0]
                if i.limit and i.dimensions and all(d.table == t and d.column for d in i.dimensions):
                    # 'top 3 rating tv series' with a text rating: ranking rows by a count of
                    # themselves would be a different answer.
                    raise PlanError(
                        f"Top {i.limit} {self.tables[t].name} by what? Nothing to rank them by.",
                        hint="Name a numeric column, e.g. 'top 3 tv series by rating'.",
                    )
                i.measures.append(MeasureIntent("count", t, None, lx.name_words(entity_of(self.tables[t].name))))
                self.notes.append(f"No measure named: counting {self.tables[t].name} rows.")
            elif not i.dimensions:
                raise PlanError(
                    "Nothing to model: the request names no measure and no dimension.",
                    hint="Say what to compute and by what, e.g. 'number of orders by status'.",
                )
        self._active_entities()
        unsafe = {m.table for m in i.measures if m.table and m.column and m.agg in _UNSAFE}
        needed = self._needed()
        if len(unsafe) > 1:
            raise PlanError(
                "The measures come from tables of different grains ("
                + ", ".join(sorted(self.tables[t].name for t in unsafe))
                + "): one model would double count one of them.",
                hint="Ask for them in two models, or aggregate one in an intermediate model first.",
            )
        if unsafe:
            order = sorted(unsafe)
        else:
            ents = [m.table for m in i.measures if m.table and m.column is None]
            rest = [m.table for m in i.measures if m.table] + i.subjects + sorted(needed)
            # 'members who borrowed at each branch': counted through the event the verb names.
            event = [i.event] if i.event and all(m.agg == "count_distinct" for m in i.measures) else []
            order = list(dict.fromkeys(event + ents + rest))
        for b in order:
            if needed <= set(shortest_paths(self.catalog, b)):
                return b
        if not unsafe:
            base = self._nearest_reaching(needed)
            if base is not None:
                self.notes.append(
                    f"Base table {self.tables[base].name}: the one table that reaches "
                    + ", ".join(sorted(self.tables[n].name for n in needed))
                    + " without fan-out."
                )
                return base
        if not order:
            raise PlanError("Nothing to model.", hint="Name a measure, e.g. 'number of orders'.")
        b = order[0]
        missing = sorted(needed - set(shortest_paths(self.catalog, b)))
        names = ", ".join(self.tables[m].name for m in missing)
        linked = [m for m in missing if distance(self.catalog, b, m) < 99]
        why = (
            (
                f"{names} can only be joined to {self.tables[b].name} one-to-many: every {self.tables[b].name} row would "
                "repeat once per matching row and the measures would be double counted"
            )
            if linked
            else (f"no foreign key connects {names} to {self.tables[b].name}")
        )
        raise PlanError(
            f"Cannot build this without fan-out: {why}.",
            hint="Ask for a measure of the more detailed table, or build an intermediate model first.",
        )

    # ---- paths and inputs ----------------------------------------------------------------
    def path_to(self, table: str, via: str | None = None) -> Path:
        paths = self.paths.get(table)
        if not paths:
            raise PlanError(f"{self.tables[table].name} is not reachable from {self.tables[self.base].name}.")
        if via is not None and any(p and p[-1].column == via for p in paths):
            paths = [p for p in paths if p and p[-1].column == via]
        paths = self._downstream_hops(paths)
        if len(paths) == 1:
            return paths[0]

        def score(p: Path) -> int:
            return sum(
                1
                for e in p
                for w in lx.name_words(e.column)
                if w not in lx.KEY_WORDS
                and lx.stem(w) in self.words
                and lx.stem(w) not in lx.name_words(entity_of(self.tables[e.ref_table].name))
            )

        best = max(score(p) for p in paths)
        top = [p for p in paths if score(p) == best]
        if len(top) > 1:
            roles = [f"'{p[-1].column}'" for p in top]
            if len(set(roles)) < len(roles):  # one key reached through different tables
                roles = [
                    f"'{p[-1].column}' through {', '.join(self.tables[e.ref_table].name for e in p[:-1])}"
                    if len(p) > 1
                    else f"'{p[-1].column}' directly"
                    for p in top
                ]
            cols = " or ".join(dict.fromkeys(roles))
            raise PlanError(
                f"{self.tables[table].name} joins {self.tables[self.base].name} in several roles ({cols}).",
                hint="Say which one, e.g. with the words of that key column.",
            )
        return top[0]

    def _downstream_hops(self, paths: list[Path]) -> list[Path]:
        """Of equally short paths, those whose hops are no upstream layer of another path's
        hops: through `orders`, not through the `stg_orders` it is built on."""

        def below(p: Path, q: Path) -> bool:  # q hops through p's tables or their later layers
            return p != q and all(
                a.ref_table == b.ref_table or self.catalog.is_upstream_of(a.ref_table, b.ref_table)
                for a, b in zip(p, q)
            )

        kept = [p for p in paths if not any(len(q) == len(p) and below(p, q) for q in paths)]
        return kept or paths

    def alias(self, path: Path) -> str:
        if path in self.aliases:
            return self.aliases[path]
        if path:
            self.alias(path[:-1])
        t = self.tables[path[-1].ref_table if path else self.base]
        name = snake(t.name)
        if name in self.aliases.values():
            name = snake(re.sub(r"_(id|key)$", "", path[-1].column)) if path else name
        while name in self.aliases.values():
            name += "_2"
        self.aliases[path] = name
        if path:
            e = path[-1]
            self.joins.append(
                JoinSpec(
                    left=self.aliases[path[:-1]],
                    left_column=e.column,
                    right=name,
                    right_column=e.ref_column,
                    cast=e.cast,
                )
            )
        return name

    def input_of(self, table: str | None) -> tuple[str, Table]:
        table = table or self.base
        return self.alias(self.path_to(table)), self.tables[table]

    # ---- build -----------------------------------------------------------------------------
    def _mixed_grain_target(self) -> str | None:
        """'number of trips and total maintenance cost per bike': measures of two tables that
        both refer directly to the one table every dimension comes from (bikes). Each is then
        aggregated to one row per bike before the join, so neither is double counted."""
        i = self.i
        measure_tables = {m.table for m in i.measures if m.table}
        if len(measure_tables) < 2 or not i.dimensions or i.kind != "aggregate":
            return None
        if i.having or i.windows or i.pivot or i.share or i.exists or i.latest:
            return None
        dim_tables = {d.table for d in i.dimensions}
        if len(dim_tables) != 1 or None in dim_tables:
            return None
        (target,) = dim_tables
        if target in measure_tables or not any(d.column is None for d in i.dimensions):
            return None  # the entity itself (its key) must be a dimension: one row per target row
        for t in measure_tables:
            fks = [f for f in self.catalog.foreign_keys if f.table == t and f.ref_table == target]
            if len(fks) != 1:
                return None
        if any(f.table in measure_tables for f in i.filters) or i.dates:
            return None
        return target

    def _build_mixed(self, name: str | None, target: str) -> ModelSpec:
        self.base = target
        self.paths = shortest_paths(self.catalog, self.base)
        self.aliases: dict[Path, str] = {}
        self.joins: list[JoinSpec] = []
        self.alias(())
        dims = self._dimensions()
        filters = self._filters(dims)
        base_alias = self.alias(())
        pre: list[InputSpec] = []
        measures: list[MeasureSpec] = []
        ent = entity_of(self.tables[target].name)
        for t in sorted({m.table for m in self.i.measures if m.table}):
            fk = next(f for f in self.catalog.foreign_keys if f.table == t and f.ref_table == target)
            tt = self.tables[t]
            alias = snake(f"{tt.name}_by_{ent}")[:63]
            inner: list[MeasureSpec] = []
            for m in [m for m in self.i.measures if m.table == t]:
                if m.column is None:
                    mname = snake(f"{entity_of(tt.name)}_count")
                    inner.append(
                        MeasureSpec(name=mname, agg="count", input=alias, description=f"Number of {tt.name} rows.")
                    )
                else:
                    mname = snake(f"{_PREFIX[m.agg]}_{'_'.join(m.words) or m.column}")
                    inner.append(
                        MeasureSpec(
                            name=mname,
                            agg=m.agg,
                            input=alias,
                            column=m.column,
                            description=f"{m.agg} of {tt.name}.{m.column}.",
                        )
                    )
            for x in inner:
                outer = {"count": "sum", "sum": "sum", "count_distinct": "sum"}.get(x.agg, x.agg)
                measures.append(
                    MeasureSpec(
                        name=x.name,
                        agg=outer,
                        input=alias,
                        column=x.name,
                        description=x.description.rstrip(".") + f", per {ent} (aggregated before the join).",
                    )
                )
            pre.append(
                InputSpec(
                    alias=alias,
                    kind="source" if tt.kind == "source" else "ref",
                    source_name=tt.source_name if tt.kind == "source" else None,
                    table=tt.name,
                    group_by=[fk.column],
                    aggregates=inner,
                )
            )
            self.joins.append(
                JoinSpec(left=base_alias, left_column=fk.ref_column, right=alias, right_column=fk.column, cast=fk.cast)
            )
            self.notes.append(
                f"{tt.name} aggregated to one row per {fk.column} first, then joined to {self.tables[target].name}: "
                "the measures come from tables of different grains."
            )
        self.order_specs: list[OrderSpec] = []
        model_name = self._name(name, dims, measures)
        return ModelSpec(
            name=model_name,
            description=self._description(dims, measures, filters),
            inputs=self._inputs() + pre,
            joins=self.joins,
            dimensions=dims,
            measures=measures,
            filters=filters,
            surrogate_key=f"{model_name[:59]}_key",
            grain=[d.name for d in dims],
            request=self.request,
            planner="offline",
            notes=list(dict.fromkeys(self.notes)),
        )

    def build(self, name: str | None) -> ModelSpec:
        target = self._mixed_grain_target()
        if target is not None:
            return self._build_mixed(name, target)
        self.base = self.choose_base()
        self.paths = shortest_paths(self.catalog, self.base)
        self.aliases = {}
        self.joins = []
        self.alias(())
        listing = self.i.kind == "listing"
        latest_key = self._latest() if self.i.latest else None
        self.base_dedupe = latest_key
        if listing and not any(d.column for d in self.i.dimensions):
            # 'riders who never took a trip', 'list all stations': the entity itself.
            self.i.dimensions.append(DimensionIntent(self.base, None, None, []))
        dims = self._dimensions()
        measures = self._measures()
        filters = self._filters(dims)
        exists = self._exists()
        order_by = self._order(dims, measures)
        having = [
            HavingSpec(column=measures[self._measure_index(h)].name, op=h.op, values=h.values) for h in self.i.having
        ]
        ratios = self._share(measures)
        windows = self._windows(dims, measures)
        pivot = self._pivot(measures)
        outputs = [d.name for d in dims] + [m.name for m in measures]
        if self.i.limit and not order_by:
            if not measures:
                raise PlanError("'top N' needs a measure to rank by.", hint="Say e.g. 'top 5 products by revenue'.")
            order_by = [OrderSpec(column=measures[0].name, direction=self.i.direction)]
        self.order_specs = order_by
        inputs = self._inputs() + self._exists_inputs
        if latest_key:
            t = self.tables[self.base]
            inputs[0].dedupe_key, inputs[0].dedupe_order_by = latest_key, main_time_column(t).name  # type: ignore[union-attr]
        model_name = self._name(name, dims, measures)
        key = f"{model_name[:59]}_key" if dims and not listing else None
        grain = [d.name for d in dims] if not listing else self._listing_grain(dims)
        return (
            ModelSpec(
                name=model_name,
                layer="marts",
                materialized="table",
                description=self._description(dims, measures, filters) + _derived_words(ratios, windows),
                inputs=inputs,
                joins=self.joins,
                dimensions=dims,
                measures=measures,
                filters=filters,
                kind="listing" if listing else "aggregate",
                distinct=self.i.distinct and listing,
                having=having,
                ratios=ratios,
                windows=windows,
                pivot=pivot,
                exists=exists,
                order_by=order_by,
                limit=self.i.limit,
                surrogate_key=key,
                grain=grain,
                tests=[],
                request=self.request,
                planner="offline",
                notes=list(dict.fromkeys(self.notes)),
            )
            if len(set(outputs)) == len(outputs)
            else self._duplicate(outputs)
        )

    def _share(self, measures: list[MeasureSpec]) -> list[RatioSpec]:
        """'share of trips on electric bikes': the measure where the conditions hold over the
        measure itself."""
        if self.i.share is None:
            return []
        percent, conds = self.i.share
        if len(measures) != 1 or measures[0].agg not in ("count", "sum", "count_distinct"):
            raise PlanError(
                "A share needs one count or sum to divide.", hint="Ask e.g. 'share of orders that are completed'."
            )
        total = measures[0]
        where = []
        for f in conds:
            alias, _ = self.input_of(f.table)
            where.append(FilterSpec(input=alias, column=f.column, op=f.op, values=f.values, cast=f.cast))
        slug = snake(
            "_".join(("_".join(str(v) for v in f.values) if f.op in ("in", "=") else str(f.column)) for f in conds)
        )[:30]
        part = total.model_copy(update={"name": f"{total.name}_{slug}"[:63], "where": where})
        part.description = total.description.rstrip(".") + " where " + " and ".join(c.text for c in conds) + "."
        measures.insert(0, part)
        name = f"{'pct' if percent else 'share'}_{part.name}"[:63]
        return [
            RatioSpec(
                name=name,
                numerator=part.name,
                denominator=total.name,
                percent=percent,
                description=f"{part.name} / {total.name}" + (" x 100 (a percentage)." if percent else " (a fraction)."),
            )
        ]

    def _windows(self, dims: list[DimensionSpec], measures: list[MeasureSpec]) -> list[WindowSpec]:
        out: list[WindowSpec] = []
        for function, periods in self.i.windows:
            if not measures:
                raise PlanError(f"A {function.replace('_', ' ')} of what?", hint="Name a measure.")
            m = measures[0].name
            if function == "rank":
                part = [d.name for d in dims if d.name not in self.ranked_dims]
                out.append(
                    WindowSpec(
                        name=f"{m}_rank",
                        function="rank",
                        partition_by=part,
                        order_by=m,
                        direction="desc",
                        description=f"Rank by {m}, highest first"
                        + (f", within each {', '.join(part)}." if part else "."),
                    )
                )
                continue
            timed = [d for d in dims if d.time_grain]
            if len(timed) != 1:
                raise PlanError(
                    f"A {function.replace('_', ' ')} needs one time grain to run along (e.g. 'by month').",
                    hint="Add 'by month' (or week, quarter, year).",
                )
            t = timed[0]
            part = [d.name for d in dims if d is not t]
            name = {
                "running_total": f"running_{m}",
                "moving_average": f"{m}_moving_avg_{periods or 3}",
                "change": f"{m}_change",
                "percent_change": f"{m}_pct_change",
            }[function][:63]
            what = {
                "running_total": f"Running total of {m} by {t.name}",
                "moving_average": f"Average of {m} over this and the previous {(periods or 3) - 1} {t.time_grain}s",
                "change": f"{m} minus the previous {t.time_grain}'s",
                "percent_change": f"Percent change of {m} from the previous {t.time_grain} (null for the first)",
            }[function]
            out.append(
                WindowSpec(
                    name=name,
                    function=function,
                    column=m,
                    partition_by=part,
                    order_by=t.name,
                    periods=periods if function == "moving_average" else None,
                    description=what + (f", within each {', '.join(part)}." if part else "."),
                )
            )
        return out

    def _pivot(self, measures: list[MeasureSpec]) -> PivotSpec | None:
        if self.i.pivot is None:
            return None
        table, column = self.i.pivot
        col = self.tables[table].column(column)
        if not measures or col is None or not col.values:
            raise PlanError("One column per value of what?", hint="Name a measure and a low-cardinality column.")
        alias, _ = self.input_of(table)
        self.notes.append(
            f"One {measures[0].name} column per {self.tables[table].name}.{column} value ("
            + ", ".join(str(v) for v in sorted(col.values, key=str))
            + "), read from the data: a new value fails the model's values_in test."
        )
        return PivotSpec(input=alias, column=column, values=sorted(col.values, key=str), measure=measures[0].name)

    def _latest(self) -> list[str]:
        """The latest row of the base per grouped entity: its key columns to those entities
        become the dedupe key, and every column of the base is listed."""
        t = self.tables[self.base]
        keys = []
        for d in self.i.dimensions:
            if d.column is None and d.table and d.table != self.base:
                fks = [f for f in self.catalog.foreign_keys if f.table == self.base and f.ref_table == d.table]
                if len(fks) != 1:
                    raise PlanError(
                        f"The latest {t.name} per {self.tables[d.table].name}: no single key joins them.",
                        hint="Name the key column, e.g. 'latest event per bike_id'.",
                    )
                keys.append(fks[0].column)
            elif d.column and d.table == self.base:
                keys.append(d.column)
            else:
                raise PlanError(f"The latest {t.name} per what?", hint="Say 'for each ...'.")
        if not keys:
            raise PlanError(f"The latest {t.name} per what?", hint="Say 'for each ...'.")
        self.i.dimensions = [DimensionIntent(self.base, c.name, None, [c.name]) for c in t.columns]
        return keys

    def _listing_grain(self, dims: list[DimensionSpec]) -> list[str]:
        if self.i.latest:
            return [d.name for d in dims if d.column in (self.base_dedupe or [])]
        t = self.tables[self.base]
        if self.i.distinct:
            return [d.name for d in dims]
        key = next((d.name for d in dims if d.input == self.alias(()) and d.column == t.primary_key), None)
        return [key] if key and not self.joins else []

    def _measure_index(self, h) -> int:
        return next(n for n, m in enumerate(self.i.measures) if m.table == h.table and m.column == h.column)

    def _order(self, dims: list[DimensionSpec], measures: list[MeasureSpec]) -> list[OrderSpec]:
        out: list[OrderSpec] = []
        for o in self.i.order:
            if o.measure is not None:
                if o.measure >= len(measures):
                    raise PlanError("Sort by which measure?", hint="Name the measure to sort by.")
                name = measures[o.measure].name
            else:
                alias, _ = self.input_of(o.table)
                name = next((d.name for d in dims if d.input == alias and d.column == o.column), "")
                if not name:
                    raise PlanError(f"Sort by {o.column}: it is not an output column.", hint="List it too.")
            if name not in {x.column for x in out}:
                out.append(OrderSpec(column=name, direction=o.direction))
        return out

    def _exists(self) -> list[ExistsSpec]:
        self._exists_inputs: list[InputSpec] = []
        out = []
        for e in self.i.exists:
            fks = [f for f in self.catalog.foreign_keys if f.table == e.table and f.ref_table == self.base]
            if len(fks) != 1:
                related = self.tables[e.table].name
                raise PlanError(
                    f"'{e.text}': {related} refers to {self.tables[self.base].name} "
                    + ("in several roles (" + ", ".join(f.column for f in fks) + ")" if fks else "through no key")
                    + ".",
                    hint="Say which key, or use --llm MODEL.",
                )
            fk = fks[0]
            t = self.tables[e.table]
            alias = snake(t.name)
            while alias in self.aliases.values() or alias in {i.alias for i in self._exists_inputs}:
                alias += "_2"
            self._exists_inputs.append(
                InputSpec(
                    alias=alias,
                    kind="source" if t.kind == "source" else "ref",
                    source_name=t.source_name if t.kind == "source" else None,
                    table=t.name,
                )
            )
            out.append(
                ExistsSpec(
                    input=alias,
                    column=fk.column,
                    outer=self.alias(()),
                    outer_column=fk.ref_column,
                    negated=e.negated,
                    cast=fk.cast,
                )
            )
            self.notes.append(
                f"'{e.text}': {self.tables[self.base].name} "
                + ("without" if e.negated else "with")
                + f" a row in {t.name} (by {t.name}.{fk.column})."
            )
        return out

    def _duplicate(self, outputs: list[str]) -> ModelSpec:
        raise PlanError(
            f"The request asks for the same output twice: {outputs}.", hint="Name each measure and dimension once."
        )

    def _time_column(self, table: str | None, words: list[str]) -> tuple[str, Column]:
        t = self.tables[table or self.base]
        col = main_time_column(t)
        if col is None and table is None:
            # A line table dates its rows through its header: the nearest table reachable
            # many-to-one that has an event timestamp (order_items -> orders.ordered_at).
            reachable = sorted(
                (min(len(p) for p in paths), label)
                for label, paths in self.paths.items()
                if paths and label != self.base and main_time_column(self.tables[label]) is not None
            )
            if reachable:
                near = self.tables[reachable[0][1]]
                self.notes.append(f"{t.name} has no date of its own: its rows are dated by {near.name}.")
                t, col = near, main_time_column(near)
        if col is None:
            raise PlanError(
                f"{t.name} has no date or timestamp column to apply a time grain or date to.",
                hint="Name the date column, e.g. 'by created_at month'.",
            )
        if table is None or not words:
            self.notes.append(
                f"Time taken from {t.name}.{col.name} (its event timestamp; name another date column to change it)."
            )
        return t.label, col

    def _dim_name(self, t: Table, column: str, grain: str | None) -> str:
        ent = entity_of(t.name)
        words = lx.name_words(column)
        if grain:
            main = main_time_column(t)
            core = [w for w in words if w not in lx.TIME_MARKERS] or [ent]
            base = ent if main is not None and main.name == column else "_".join(core)
            if t.label != self.base and not base.startswith(ent):
                base = f"{ent}_{base}"
            return snake(f"{base}_{grain}")
        if t.label == self.base or column.startswith(ent):
            return snake(column)
        return snake(f"{ent}_{column}")

    def _dimensions(self) -> list[DimensionSpec]:
        out: list[DimensionSpec] = []
        seen: set[tuple] = set()

        self.ranked_dims: set[str] = set()

        def add(alias: str, t: Table, column: str, grain: str | None, desc: str) -> None:
            if (alias, column, grain) in seen:
                return
            name = self._dim_name(t, column, grain)
            if any(d.name == name and d.column.lower() == column.lower() for d in out):
                return  # owners.owner_id and dogs.owner_id, the two ends of the join: one column
            seen.add((alias, column, grain))
            if current.table in self.i.ranked and current.column is None:
                self.ranked_dims.add(self._dim_name(t, column, grain))
            out.append(
                DimensionSpec(
                    name=self._dim_name(t, column, grain),
                    input=alias,
                    column=column,
                    time_grain=grain,
                    description=desc,
                )
            )

        for d in self.i.dimensions:
            current = d
            if d.column is None and d.grain is None and d.table:
                self._entity_dimension(d, add)
                continue
            if d.column is None:
                if d.grain is None:
                    raise PlanError(
                        f"'{' '.join(d.words)}' names nothing to group by.", hint="Name a column, e.g. 'by status'."
                    )
                label, col = self._time_column(d.table, d.words)
                alias, t = self.input_of(label)
                add(alias, t, col.name, d.grain, f"{d.grain.capitalize()} of {t.name}.{col.name}.")
                continue
            alias, t = self.input_of(d.table)
            desc = f"{t.name}.{d.column}" + (f", truncated to the {d.grain}" if d.grain else "") + "."
            add(alias, t, d.column, d.grain, desc[0].upper() + desc[1:])
        return out

    def _entity_dimension(self, d: DimensionIntent, add) -> None:
        if d.table is None:
            raise PlanError(
                f"'{' '.join(d.words)}' names no table to group by.", hint="Name a column, e.g. 'by status'."
            )
        path = self.path_to(d.table, d.via)
        if path:
            # 'for each car maker': the makers themselves; rows whose key matches no maker are
            # not a maker of their own (an inner join to the entity grouped by).
            self.alias(path)
            for j in self.joins:
                if j.right == self.aliases[path] and j.left_column == path[-1].column:
                    j.how = "inner"
        t = self.tables[d.table]
        if path:
            holder = self.alias(path[:-1])
            holder_t = self.tables[path[-1].table]
            add(
                holder,
                holder_t,
                path[-1].column,
                None,
                f"Key of the {entity_of(t.name)} ({holder_t.name}.{path[-1].column}).",
            )
        elif t.primary_key:
            add(self.alias(()), t, t.primary_key, None, f"Key of the {entity_of(t.name)}.")
        label = next(
            (t.column(n) for n in (*lx.LABEL_NAMES, f"{entity_of(t.name)}_name", entity_of(t.name)) if t.column(n)),
            None,
        )
        if label is not None and label.name == t.primary_key:
            label = None
        if label is not None:
            alias = self.alias(path)
            add(alias, t, label.name, None, f"{t.name}.{label.name}.")
        elif not path and not t.primary_key:
            raise PlanError(f"'{' '.join(d.words)}': {t.name} has no key to group by.", hint="Name a column of it.")

    def _measures(self) -> list[MeasureSpec]:
        out: list[MeasureSpec] = []
        for m in self.i.measures:
            if m.column is None:
                out.append(self._count_measure(m))
                continue
            alias, t = self.input_of(m.table)
            # The request's words name the measure ('revenue' -> total_revenue), in the column's
            # own number when they are its words ('hours' stays plural).
            own = set(lx.name_words(m.column))
            words = [w if w in own else singular(w) for w in m.words] or [m.column]
            col = t.column(m.column)
            prefix = _PREFIX[m.agg]
            if col is not None and col.family == "time" and m.agg in ("min", "max"):
                prefix = "first" if m.agg == "min" else "latest"
            stem_words = "_".join(words)
            if prefix in words:
                prefix = ""
            name = snake(f"{prefix}_{stem_words}" + ("_count" if m.agg == "count_distinct" else ""))
            what = {
                "sum": "Sum",
                "avg": "Average",
                "min": "Minimum",
                "max": "Maximum",
                "count": "Count",
                "count_distinct": "Number of distinct",
            }[m.agg]
            if m.as_date:
                out.append(
                    MeasureSpec(
                        name=f"{name}_date"[:63],
                        agg=m.agg,
                        input=alias,
                        expression=f"cast({alias}.{m.column} as date)",
                        description=f"{what} of {t.name}.{m.column}, as a date.",
                    )
                )
                continue
            out.append(
                MeasureSpec(
                    name=name, agg=m.agg, input=alias, column=m.column, description=f"{what} of {t.name}.{m.column}."
                )
            )
        return out

    def _count_measure(self, m: MeasureIntent) -> MeasureSpec:
        table = m.table or self.base
        t = self.tables[table]
        ent = entity_of(t.name)
        path = self.path_to(table)
        if not path:
            return MeasureSpec(
                name=snake(f"{ent}_count"), agg="count", input=self.alias(()), description=f"Number of {t.name} rows."
            )
        holder = self.alias(path[:-1])
        col = path[-1].column
        self.notes.append(
            f"Counting {t.name} as distinct {self.tables[path[-1].table].name}.{col} "
            f"(the rows are {self.tables[self.base].name})."
        )
        return MeasureSpec(
            name=snake(f"{ent}_count"),
            agg="count_distinct",
            input=holder,
            column=col,
            description=f"Number of distinct {t.name} ({self.tables[path[-1].table].name}.{col}).",
        )

    def _filters(self, dims: list[DimensionSpec]) -> list[FilterSpec]:
        intents: list[FilterIntent] = list(self.i.filters)
        for d in self.i.dates:
            table, column = d.table, d.column
            if column is None:
                timed = [x for x in dims if x.time_grain]
                if table is None and timed:
                    alias = timed[0].input
                    table = next(p[-1].ref_table if p else self.base for p, a in self.aliases.items() if a == alias)
                    column = timed[0].column
                else:
                    year = self._year_column(table, d)
                    if year is not None:
                        intents.append(year)
                        continue
                    table, col = self._time_column(table, [] if table is None else ["x"])
                    column = col.name
            intents += d.filters(table, column)  # type: ignore[arg-type]
        out = []
        for f in intents:
            alias, _ = self.input_of(f.table)
            relative = None
            if f.relative is not None:
                grain, offset, period_start = f.relative
                relative = RelativeDate(grain=grain, offset=offset, period_start=period_start)
            out.append(
                FilterSpec(input=alias, column=f.column, op=f.op, values=f.values, cast=f.cast, relative=relative)
            )
        return out

    def _year_column(self, table: str | None, d) -> FilterIntent | None:
        """'concerts in 2014' on a table with no date but a Year column: that year."""
        t = self.tables[table or self.base]
        if main_time_column(t) is not None or d.op != "range" or d.end is None:
            return None
        if (d.start.month, d.start.day, d.end.month, d.end.day) != (1, 1, 1, 1) or d.end.year != d.start.year + 1:
            return None
        years = [c for c in t.columns if "year" in lx.name_words(c.name) and c.family in ("number", "text")]
        if len(years) != 1:
            return None
        col = years[0]
        value: int | str = d.start.year if col.family == "number" else str(d.start.year)
        self.notes.append(f"'{d.text}': {t.name}.{col.name} = {value!r} (it has no date column).")
        return FilterIntent(t.label, col.name, "=", [value], text=d.text)

    def _inputs(self) -> list[InputSpec]:
        out = []
        for path, alias in self.aliases.items():
            t = self.tables[path[-1].ref_table if path else self.base]
            spec = InputSpec(
                alias=alias,
                kind="source" if t.kind == "source" else "ref",
                source_name=t.source_name if t.kind == "source" else None,
                table=t.name,
            )
            if t.primary_key and t.primary_key_unique is False:
                latest = latest_column(t)
                spec.dedupe_key = [t.primary_key]
                spec.dedupe_order_by = latest.name if latest else None
                self.notes.append(
                    f"{t.name}.{t.primary_key} is not unique in the data: keeping one row per "
                    f"{t.primary_key}"
                    + (f", the latest by {latest.name}." if latest else " (no timestamp to pick the latest).")
                )
            out.append(spec)
        return out

    def _name(self, name: str | None, dims: list[DimensionSpec], measures: list[MeasureSpec]) -> str:
        if name is not None:
            try:
                return check_identifier(name, "model name")
            except ValueError as e:
                raise UsageError(str(e), hint="Pick a name like 'revenue_by_country'.") from None
        head = "_and_".join(m.name for m in measures[:2]) or "_".join(d.name for d in dims[:1])
        if self.i.limit:
            head = f"top_{self.i.limit}_{head}"
        full = head + ("_by_" + "_".join(d.name for d in dims) if dims and measures else "")
        full = snake(full)
        while len(full) > 63 and "_" in full:
            full = full.rsplit("_", 1)[0]
        return full[:63]

    def _description(self, dims: list[DimensionSpec], measures: list[MeasureSpec], filters: list[FilterSpec]) -> str:
        grain = " and ".join(d.name.replace("_", " ") for d in dims)
        head = f"One row per {grain}" if grain else "One row"
        if self.i.kind == "listing":
            head = (
                f"One row per distinct {grain}"
                if self.i.distinct
                else f"One row per {self.tables[self.base].name} row ({grain})"
            )
        body = "; ".join(f"{m.name.replace('_', ' ')} ({m.description.rstrip('.').lower()})" for m in measures)
        text = f"{head}: {body}." if body else f"{head}."
        if filters:
            text += (
                " Only rows where "
                + " and ".join(
                    f"{f.input}.{f.column} {f.op} "
                    + (
                        _relative_words(f.relative)
                        if f.relative is not None
                        else ", ".join(repr(v) for v in f.values)
                        if f.op not in ("in", "not in")
                        else "(" + ", ".join(repr(v) for v in f.values) + ")"
                    )
                    for f in filters
                )
                + "."
            )
            if any(f.relative is not None for f in filters):
                text += " Dates are relative to the day the model is built (current_date): its rows change every day."
        if self.order_specs:
            by = ", ".join(
                f"{o.column} {'descending' if o.direction == 'desc' else 'ascending'}" for o in self.order_specs
            )
            text += f" Ordered by {by}" + (f", the first {self.i.limit} rows." if self.i.limit else ".")
        elif self.i.limit and measures:
            text += f" The {'top' if self.i.direction == 'desc' else 'bottom'} {self.i.limit} by {measures[0].name}."
        return text


def _derived_words(ratios: list, windows: list) -> str:
    """The columns computed over the aggregated rows, so the summary names every one of them:
    ' Also: running total revenue (running total of total_revenue by order_month).'"""
    parts = [
        f"{x.name.replace('_', ' ')} ({x.description.rstrip('.')[:1].lower()}{x.description.rstrip('.')[1:]})"
        for x in [*ratios, *windows]
    ]
    return f" Also: {'; '.join(parts)}." if parts else ""


def _relative_words(rel: RelativeDate) -> str:
    """'the first day of this month', '30 days before today'."""
    if rel.period_start:
        which = {0: "this", -1: "last"}.get(rel.offset, f"{-rel.offset} {rel.grain}s before this")
        return f"the first day of {which} {rel.grain}"
    return "today" if rel.offset == 0 else f"{-rel.offset} {rel.grain}s before today"


def assemble(intent: Intent, catalog: Catalog, *, request: str, name: str | None) -> ModelSpec:
    """The spec for `intent`: base table, joins outward along many-to-one keys, deduplicated
    inputs where keys repeat, output names, descriptions and the notes of every choice."""
    return _Assembler(intent, catalog, request).build(name)
