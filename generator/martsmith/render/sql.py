"""Spec -> dbt SQL, deterministically, in the dbt Labs style: import CTEs with source()/ref(),
logical CTEs, and a final `select * from final`. Lower-case keywords, explicit aliases.

The skeleton (CTEs, select lists wrapped under the line length, the dedupe import, the file's
final select) is public: the star renderer lays out its models with the same functions.

The output is Jinja for dbt. Cross-database work goes through dbt's macros (`dbt.date_trunc`) and
this package's (`martsmith.surrogate_key`, `martsmith.deduplicate`) so the same file compiles on any
adapter.

>>> from martsmith.spec import ModelSpec, InputSpec, MeasureSpec
>>> spec = ModelSpec(name="n_orders", description="One row.", request="x", planner="offline",
...     inputs=[InputSpec(alias="orders", kind="ref", table="stg_orders")],
...     measures=[MeasureSpec(name="order_count", agg="count", input="orders")])
>>> print(render_sql(spec).splitlines()[4])
    select * from {{ ref('stg_orders') }}
"""

from __future__ import annotations

import re

from martsmith.spec import (
    DimensionSpec,
    ExistsSpec,
    FilterSpec,
    InputSpec,
    MeasureSpec,
    ModelSpec,
    PivotSpec,
    RatioSpec,
    RelativeDate,
    Scalar,
    WindowSpec,
    pivot_columns,
)

INDENT = "    "
MAX_LINE = 100  # the line length of the default .sqlfluff
JINJA_CALL = re.compile(r"^\{\{ ([\w.]+)\((.*)\) \}\}(.*)$")


# -- the skeleton of every model file (models and star schemas alike) ----------------------------


def cte(name: str, body: str) -> str:
    """One CTE, its body set off by blank lines (the dbt Labs style).

    >>> print(cte("orders", "    select 1"))
    orders as (
    <BLANKLINE>
        select 1
    <BLANKLINE>
    )
    """
    return f"{name} as (\n\n{body}\n\n)"


def import_cte(alias: str, relation: str) -> str:
    """`alias as (select * from relation)`: an import CTE."""
    return cte(alias, f"{INDENT}select * from {relation}")


def model_sql(ctes: list[str], final: str = "final") -> str:
    """A model's SQL file: `with` the CTEs, then `select * from <final>` and one newline."""
    return "with\n\n" + ",\n\n".join(ctes) + f"\n\nselect * from {final}\n"


def select(items: list[str], indent: str = INDENT, *, distinct: bool = False) -> str:
    """`select` (or `select distinct`) at `indent` and its items one level in, each laid out by
    `select_list`; a single short item stays on the `select` line (sqlfluff's LT09).

    >>> print(select(["count(*) as order_count"]))
        select count(*) as order_count
    """
    keyword = f"{indent}select{' distinct' if distinct else ''}"
    if len(items) == 1 and "\n" not in items[0] and len(f"{keyword} {items[0]}") <= MAX_LINE:
        return f"{keyword} {items[0]}"
    return keyword + "\n" + select_list(items, indent + INDENT)


def jinja_ref(model: str) -> str:
    """`{{ ref('model') }}`."""
    return f"{{{{ ref('{model}') }}}}"


def jinja_source(source_name: str, table: str) -> str:
    """`{{ source('source', 'table') }}`."""
    return f"{{{{ source('{source_name}', '{table}') }}}}"


def dedupe_order(keys: list[str], order_by: str | None = None) -> str:
    """The order that picks the row to keep per key: the latest by `order_by` when there is one
    (nulls last, spelled out: DuckDB puts them last by default, Postgres first), else any.

    >>> dedupe_order(["id"], "updated_at")
    'updated_at desc nulls last'
    """
    return f"{order_by} desc nulls last" if order_by else ", ".join(keys)


def deduplicate(relation: str, keys: list[str], order_by: str | None = None, indent: str = INDENT) -> str:
    """A select of one row of `relation` per key (the latest by `order_by`) through the package's
    dispatched macro: `qualify` on DuckDB, `distinct on` on Postgres, a numbered subquery that
    selects the relation's own columns elsewhere. Nothing but the relation's columns comes out,
    so a `select *` after it sees what it would see without the dedupe.

    >>> print(deduplicate("{{ ref('stg_orders') }}", ["order_id"], "updated_at"))
        {{ martsmith.deduplicate(
            ref('stg_orders'), partition_by='order_id', order_by='updated_at desc nulls last'
        ) }}
    """
    match = re.fullmatch(r"\{\{ (.*) \}\}", relation)
    rel = match.group(1) if match else f"'{relation}'"
    args = [rel, f"partition_by='{', '.join(keys)}'", f"order_by='{dedupe_order(keys, order_by)}'"]
    one = f"{indent}{{{{ martsmith.deduplicate({', '.join(args)}) }}}}"
    if len(one) <= MAX_LINE:
        return one
    inner = indent + INDENT
    if len(inner + ", ".join(args)) <= MAX_LINE:
        return f"{indent}{{{{ martsmith.deduplicate(\n{inner}{', '.join(args)}\n{indent}) }}}}"
    return f"{indent}{{{{ martsmith.deduplicate(\n" + ",\n".join(inner + a for a in args) + f"\n{indent}) }}}}"


def _expand_jinja(expr: str, indent: str) -> str:
    """`{{ f(args) }} rest` with the arguments on their own line, when the line is too long
    (Jinja may span lines; sqlfluff cannot split it for us)."""
    match = JINJA_CALL.match(expr)
    if len(indent + expr) <= MAX_LINE or not match:
        return indent + expr
    name, args, rest = match.groups()
    return f"{indent}{{{{ {name}(\n{indent}{INDENT}{args}\n{indent}) }}}}{rest}"


def _wrap(item: str, indent: str) -> str:
    """A select item on as many lines as it needs to stay under MAX_LINE: the alias on its own
    line, a cast's inner expression on its own line, a long Jinja call's arguments on theirs.
    An item already on several lines was laid out by its maker and is kept as it is."""
    if len(indent + item) <= MAX_LINE or " as " not in item or "\n" in item:
        return indent + item
    expr, alias = item.rsplit(" as ", 1)
    inner = indent + INDENT
    if len(inner + expr) > MAX_LINE and expr.startswith("cast(") and expr.endswith(")"):
        body, _, type_ = expr[len("cast(") : -1].rpartition(" as ")
        return f"{indent}cast(\n{_expand_jinja(f'{body} as {type_}', inner)}\n{indent}) as {alias}"
    if len(indent + expr) > MAX_LINE:
        return f"{_expand_jinja(expr, indent)} as {alias}"
    return f"{indent}{expr}\n{inner}as {alias}"


def select_list(items: list[str], indent: str = INDENT * 2) -> str:
    """Select items at `indent`, one a line, comma-separated, each wrapped to stay under MAX_LINE.

    >>> print(select_list(["orders.order_id", "count(*) as order_count"]))
            orders.order_id,
            count(*) as order_count
    """
    return ",\n".join(_wrap(item, indent) for item in items)


# -- a ModelSpec's SQL ------------------------------------------------------------------------


def _literal(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _cast_literal(value: Scalar, cast: str | None) -> str:
    lit = _literal(value)
    return f"cast({lit} as {cast})" if cast else lit


def render_input(inp: InputSpec) -> str:
    relation = jinja_source(str(inp.source_name), inp.table) if inp.kind == "source" else jinja_ref(inp.table)
    if inp.aggregates:
        # Measures of another grain: one row per key here, joined one-to-one afterwards.
        items = [f"{inp.alias}.{c}" for c in inp.group_by] + [render_measure(m) for m in inp.aggregates]
        return (
            select(items)
            + f"\n{INDENT}from {relation} as {inp.alias}\n{INDENT}group by "
            + ", ".join(str(i + 1) for i in range(len(inp.group_by)))
        )
    if inp.dedupe_key:
        # Several rows per key (duplicates, late-arriving updates): keep the latest one so that
        # joins stay many-to-one and counts don't double.
        return deduplicate(relation, inp.dedupe_key, inp.dedupe_order_by)
    return f"{INDENT}select * from {relation}"


def render_dimension(dim: DimensionSpec) -> str:
    expr = f"{dim.input}.{dim.column}"
    if dim.time_grain:
        expr = f"cast({{{{ dbt.date_trunc('{dim.time_grain}', '{expr}') }}}} as date)"
    elif dim.column == dim.name:
        return expr  # `orders.status as status` aliases a column to itself (sqlfluff's AL09)
    return f"{expr} as {dim.name}"


def _conditions(filters: list[FilterSpec]) -> str:
    return " and ".join(render_filter(f) for f in filters)


def measure_expression(measure: MeasureSpec, extra: list[FilterSpec] | None = None) -> str:
    """The aggregate of one measure, without its alias. A conditional aggregate is written as
    `count(case when ... then 1 end)` / `agg(case when ... then x end)`: every adapter runs it
    (Postgres and DuckDB have `filter (where ...)`, Spark SQL before 3.2 and Snowflake don't).
    A conditional count is a count, not a sum of ones: it is 0, never null, over no rows."""
    where = [*measure.where, *(extra or [])]
    if measure.expression is not None:
        value = measure.expression
    elif measure.column is not None:
        value = f"{measure.input}.{measure.column}"
    else:
        value = None
    if where:
        cond = _conditions(where)
        value = f"case when {cond} then {value or 1} end"
    if value is None:
        return "count(*)"
    if measure.agg == "count_distinct":
        return f"count(distinct {value})"
    return f"{measure.agg}({value})"


def render_measure(measure: MeasureSpec) -> str:
    return f"{measure_expression(measure)} as {measure.name}"


def render_pivot(measure: MeasureSpec, pivot: PivotSpec) -> list[str]:
    """One conditional aggregate per pivot value; a count is 0 (not null) where no row has it."""
    out = []
    for value, name in pivot_columns(measure.name, pivot.values):
        op = "is null" if value is None else "="
        flt = FilterSpec(input=pivot.input, column=pivot.column, op=op, values=[] if value is None else [value])
        expr = measure_expression(measure, [flt])
        if measure.agg == "sum":
            expr = f"coalesce({expr}, 0)"
        out.append(f"{expr} as {name}")
    return out


def _key_equal(left: str, right: str, cast: bool) -> str:
    """`a = b`, or both as text when one key is stored as text and the other as a number."""
    if cast:
        return f"cast({left} as {{{{ dbt.type_string() }}}}) = cast({right} as {{{{ dbt.type_string() }}}})"
    return f"{left} = {right}"


def render_exists(e: ExistsSpec) -> str:
    """`[not] exists (select input.column from input where ...)`, laid out for the aggregate's
    `where` (its first line at two indents, the subquery one further). The column, not `1`:
    sqlfluff's AL03 wants an alias on a bare literal."""
    key = _key_equal(f"{e.input}.{e.column}", f"{e.outer}.{e.outer_column}", e.cast)
    conditions = [key] + [render_filter(f) for f in e.filters]
    inner, cond = INDENT * 3, INDENT * 4
    return (
        f"{'not ' if e.negated else ''}exists (\n{inner}select {e.input}.{e.column}\n{inner}from {e.input}\n{inner}where\n"
        f"{cond}" + f"\n{cond}and ".join(conditions) + f"\n{INDENT * 2})"
    )


def relative_date(rel: RelativeDate) -> str:
    """The run-relative date as dbt cross-database SQL: `current_date`, a period's first day,
    or either moved by whole periods (`dbt.dateadd`)."""
    base = f"cast(date_trunc('{rel.grain}', current_date) as date)" if rel.period_start else "current_date"
    if rel.offset == 0:
        return base
    return f"""{{{{ dbt.dateadd('{rel.grain}', {rel.offset}, "{base}") }}}}"""


def render_filter(flt: FilterSpec) -> str:
    col = f"{flt.input}.{flt.column}"
    if flt.cast:
        col = f"cast({col} as {flt.cast})"
    if flt.relative is not None:
        return f"{col} {flt.op} {relative_date(flt.relative)}"
    if flt.op in ("is null", "is not null"):
        return f"{col} {flt.op}"
    if flt.op in ("in", "not in"):
        values = ", ".join(_cast_literal(v, flt.cast) for v in flt.values)
        return f"{col} {flt.op} ({values})"
    if flt.op == "between":
        low, high = (_cast_literal(v, flt.cast) for v in flt.values)
        return f"{col} between {low} and {high}"
    return f"{col} {flt.op} {_cast_literal(flt.values[0], flt.cast)}"


def render_aggregate(spec: ModelSpec) -> str:
    base = spec.inputs[0].alias if not spec.joins else spec.joins[0].left
    select_items = [render_dimension(d) for d in spec.dimensions]
    for m in spec.measures:
        select_items += (
            render_pivot(m, spec.pivot) if spec.pivot and spec.pivot.measure == m.name else [render_measure(m)]
        )
    listing = spec.kind == "listing"
    distinct = spec.distinct if listing else bool(spec.dimensions and not spec.measures)
    lines = [select(select_items, distinct=distinct), f"{INDENT}from {base}"]
    for join in spec.joins:
        lines.append(f"{INDENT}{join.how} join {join.right}")
        key = _key_equal(f"{join.left}.{join.left_column}", f"{join.right}.{join.right_column}", join.cast)
        lines.append(f"{INDENT * 2}on {key}")
    conditions = [render_filter(f) for f in spec.filters] + [render_exists(e) for e in spec.exists]
    if conditions:
        lines.append(f"{INDENT}where")
        lines.append(f"{INDENT * 2}" + f"\n{INDENT * 2}and ".join(conditions))
    if spec.dimensions and spec.measures:
        lines.append(f"{INDENT}group by " + ", ".join(str(i + 1) for i in range(len(spec.dimensions))))
    # Dimensions only (no group by): `select distinct`, one row per distinct combination.
    return "\n".join(lines)


def _having(spec: ModelSpec) -> str:
    """The filters on measures, as a `where` over the aggregated rows (laid out like the row
    filters of the aggregate)."""
    parts = []
    for h in spec.having:
        if h.op == "between":
            parts.append(f"{h.column} between {_literal(h.values[0])} and {_literal(h.values[1])}")
        else:
            parts.append(f"{h.column} {h.op} {_literal(h.values[0])}")
    return f"{INDENT}where\n{INDENT * 2}" + f"\n{INDENT * 2}and ".join(parts)


def render_ratio(r: RatioSpec) -> str:
    scale = "100.0" if r.percent else "1.0"
    return f"{scale} * {r.numerator} / nullif({r.denominator}, 0) as {r.name}"


# A descending order says where nulls go: DuckDB puts them last in both directions, PostgreSQL
# (and Snowflake, Oracle) first when descending, so a top-N or a rank would differ by engine.
DESC = "desc nulls last"


def render_window(w: WindowSpec) -> str:
    over = []
    if w.partition_by:
        over.append("partition by " + ", ".join(w.partition_by))
    if w.order_by:
        over.append(f"order by {w.order_by}" + (f" {DESC}" if w.direction == "desc" else ""))
    frame = " ".join(over)
    k = w.periods or 1
    if w.function == "running_total":
        return f"sum({w.column}) over ({frame} rows between unbounded preceding and current row) as {w.name}"
    if w.function == "moving_average":
        n = w.periods or 3
        return f"avg({w.column}) over ({frame} rows between {n - 1} preceding and current row) as {w.name}"
    if w.function in ("rank", "dense_rank", "row_number"):
        return f"{w.function}() over ({frame}) as {w.name}"
    if w.function in ("lag", "lead"):
        return f"{w.function}({w.column}, {k}) over ({frame}) as {w.name}"
    previous = f"lag({w.column}, {k}) over ({frame})"
    if w.function == "change":
        return f"{w.column} - {previous} as {w.name}"
    if w.function == "percent_change":
        one_line = f"100.0 * ({w.column} - {previous}) / nullif({previous}, 0) as {w.name}"
        if len(INDENT * 2 + one_line) <= MAX_LINE:
            return one_line
        # Laid out as sqlfluff would (leading operators), at the select list's indent.
        item = INDENT * 2
        return f"100.0\n{item}* ({w.column} - {previous})\n{item}/ nullif({previous}, 0) as {w.name}"
    # share_of_total
    total = f"sum({w.column}) over ({frame})" if frame else f"sum({w.column}) over ()"
    return f"1.0 * {w.column} / nullif({total}, 0) as {w.name}"


def render_final(spec: ModelSpec, source: str = "aggregated", *, having: bool = False) -> str:
    items: list[str] = []
    if spec.surrogate_key and spec.grain:
        cols = ", ".join(f"'{c}'" for c in spec.grain)
        items.append(f"{{{{ martsmith.surrogate_key([{cols}]) }}}} as {spec.surrogate_key}")
    items += spec.output_columns[1 if spec.surrogate_key else 0 :]
    lines = [select(items), f"{INDENT}from {source}"]
    if having:
        lines.append(_having(spec))
    if spec.order_by:
        # Positions, like the `group by 1, 2` above: sqlfluff's AM06 wants one style throughout.
        positions = {name: i + 1 for i, name in enumerate(spec.output_columns)}
        lines.append(
            f"{INDENT}order by "
            + ", ".join(
                f"{positions[o.column]} {DESC if o.direction == 'desc' else o.direction}" for o in spec.order_by
            )
        )
    if spec.limit:
        lines.append(f"{INDENT}limit {spec.limit}")
    return "\n".join(lines)


def render_sql(spec: ModelSpec) -> str:
    """The model's SQL file (always ending with one newline).

    CTEs, in order: the imports; `aggregated` (or `selected` for a listing): joins, row filters,
    existence, group by; `computed`: ratios of the measures; `windowed`: window functions over
    those rows, after the filters on measures; `final`: the key, ordering and limit."""
    if spec.sql_body is not None:
        return spec.sql_body.strip() + "\n"
    ctes = [cte(inp.alias, render_input(inp)) for inp in spec.inputs]
    current = "selected" if spec.kind == "listing" else "aggregated"
    ctes.append(cte(current, render_aggregate(spec)))
    columns = [d.name for d in spec.dimensions] + spec._measure_outputs()
    if spec.ratios:
        ctes.append(
            cte("computed", select(columns + [render_ratio(r) for r in spec.ratios]) + f"\n{INDENT}from {current}")
        )
        columns += [r.name for r in spec.ratios]
        current = "computed"
    having_done = not spec.having
    if spec.windows:
        body = select(columns + [render_window(w) for w in spec.windows]) + f"\n{INDENT}from {current}"
        if spec.having:
            body += "\n" + _having(spec)
            having_done = True
        ctes.append(cte("windowed", body))
        current = "windowed"
    ctes.append(cte("final", render_final(spec, current, having=not having_done)))
    return model_sql(ctes)
