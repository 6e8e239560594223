"""Spec -> dbt SQL, deterministically, in the dbt Labs style: import CTEs with source()/ref(),
logical CTEs, and a final `select * from final`. Lower-case keywords, explicit aliases.

The skeleton (CTEs, select lists wrapped under the line length, the dedupe clause, the file's
final select) is public: the star renderer lays out its models with the same functions.

The output is Jinja for dbt. Cross-database work goes through dbt's macros (`dbt.date_trunc`) and
this package's (`martsmith.surrogate_key`) so the same file compiles on any adapter.

>>> from martsmith.spec import ModelSpec, InputSpec, MeasureSpec
>>> spec = ModelSpec(name="n_orders", description="One row.", request="x", planner="offline",
...     inputs=[InputSpec(alias="orders", kind="ref", table="stg_orders")],
...     measures=[MeasureSpec(name="order_count", agg="count", input="orders")])
>>> print(render_sql(spec).splitlines()[4])
    select * from {{ ref('stg_orders') }}
"""

from __future__ import annotations

import re

from martsmith.spec import DimensionSpec, FilterSpec, InputSpec, MeasureSpec, ModelSpec, Scalar

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
    `select_list`."""
    return f"{indent}select{' distinct' if distinct else ''}\n" + select_list(items, indent + INDENT)


def jinja_ref(model: str) -> str:
    """`{{ ref('model') }}`."""
    return f"{{{{ ref('{model}') }}}}"


def jinja_source(source_name: str, table: str) -> str:
    """`{{ source('source', 'table') }}`."""
    return f"{{{{ source('{source_name}', '{table}') }}}}"


def dedupe_clause(keys: list[str], order_by: str | None = None) -> str:
    """The clause that keeps one row per key: the latest by `order_by` when there is one.

    >>> dedupe_clause(["id"], "updated_at")
    'qualify row_number() over (partition by id order by updated_at desc) = 1'
    """
    order = f"{order_by} desc" if order_by else ", ".join(keys)
    return f"qualify row_number() over (partition by {', '.join(keys)} order by {order}) = 1"


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
    lines = [f"{INDENT}select * from {relation}"]
    if inp.dedupe_key:
        # Several rows per key (duplicates, late-arriving updates): keep the latest one so that
        # joins stay many-to-one and counts don't double.
        lines.append(INDENT + dedupe_clause(inp.dedupe_key, inp.dedupe_order_by))
    return "\n".join(lines)


def render_dimension(dim: DimensionSpec) -> str:
    expr = f"{dim.input}.{dim.column}"
    if dim.time_grain:
        expr = f"cast({{{{ dbt.date_trunc('{dim.time_grain}', '{expr}') }}}} as date)"
    return f"{expr} as {dim.name}"


def render_measure(measure: MeasureSpec) -> str:
    if measure.column is None:
        return f"count(*) as {measure.name}"
    col = f"{measure.input}.{measure.column}"
    if measure.agg == "count_distinct":
        return f"count(distinct {col}) as {measure.name}"
    return f"{measure.agg}({col}) as {measure.name}"


def render_filter(flt: FilterSpec) -> str:
    col = f"{flt.input}.{flt.column}"
    if flt.cast:
        col = f"cast({col} as {flt.cast})"
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
    select_items = [render_dimension(d) for d in spec.dimensions] + [render_measure(m) for m in spec.measures]
    lines = [select(select_items, distinct=bool(spec.dimensions and not spec.measures)), f"{INDENT}from {base}"]
    for join in spec.joins:
        lines.append(f"{INDENT}{join.how} join {join.right}")
        lines.append(f"{INDENT * 2}on {join.left}.{join.left_column} = {join.right}.{join.right_column}")
    if spec.filters:
        conditions = [render_filter(f) for f in spec.filters]
        lines.append(f"{INDENT}where")
        lines.append(f"{INDENT * 2}" + f"\n{INDENT * 2}and ".join(conditions))
    if spec.dimensions and spec.measures:
        lines.append(f"{INDENT}group by " + ", ".join(str(i + 1) for i in range(len(spec.dimensions))))
    # Dimensions only (no group by): `select distinct`, one row per distinct combination.
    return "\n".join(lines)


def render_final(spec: ModelSpec) -> str:
    items: list[str] = []
    if spec.surrogate_key and spec.grain:
        cols = ", ".join(f"'{c}'" for c in spec.grain)
        items.append(f"{{{{ martsmith.surrogate_key([{cols}]) }}}} as {spec.surrogate_key}")
    items += [d.name for d in spec.dimensions] + [m.name for m in spec.measures]
    lines = [select(items), f"{INDENT}from aggregated"]
    if spec.order_by:
        # Positions, like the `group by 1, 2` above: sqlfluff's AM06 wants one style throughout.
        positions = {name: i + 1 for i, name in enumerate(spec.output_columns)}
        lines.append(f"{INDENT}order by " + ", ".join(f"{positions[o.column]} {o.direction}" for o in spec.order_by))
    if spec.limit:
        lines.append(f"{INDENT}limit {spec.limit}")
    return "\n".join(lines)


def render_sql(spec: ModelSpec) -> str:
    """The model's SQL file (always ending with one newline)."""
    if spec.sql_body is not None:
        return spec.sql_body.strip() + "\n"
    ctes = [cte(inp.alias, render_input(inp)) for inp in spec.inputs]
    ctes.append(cte("aggregated", render_aggregate(spec)))
    ctes.append(cte("final", render_final(spec)))
    return model_sql(ctes)
