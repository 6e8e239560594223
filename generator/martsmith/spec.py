"""The spec: the project's intermediate representation between planning and rendering.

Both planners (offline and llm) produce a `ModelSpec`; the renderer turns it into SQL + YAML
deterministically. Every model is strict (`extra="forbid"`) so that an LLM answer with a stray
or misspelt field is rejected with a message that names it.

>>> spec = ModelSpec(
...     name="revenue_by_country",
...     description="Revenue by customer country.",
...     inputs=[InputSpec(alias="orders", kind="source", source_name="shop", table="orders")],
...     measures=[MeasureSpec(name="order_count", agg="count", input="orders")],
...     request="orders", planner="offline",
... )
>>> spec.grain
[]
"""

from __future__ import annotations

import re
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from martsmith.render.jinja_safe import data_problem, is_relation_string
from martsmith.validate.expressions import expression_problems

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# A warehouse column as generated SQL names it unquoted: any case, no quotes, dots or spaces.
COLUMN_NAME = NODE_NAME
# SQL types as martsmith writes them in casts and YAML: `varchar`, `decimal(18, 2)`,
# `timestamp with time zone`, `integer[]`.
DATA_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*( [A-Za-z][A-Za-z0-9_]*){0,3}( ?\(\d+( ?, ?\d+)?\))?(\[\])?$")
TimeGrain = Literal["day", "week", "month", "quarter", "year"]
Aggregation = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
FilterOp = Literal["=", "!=", "in", "not in", ">", ">=", "<", "<=", "between", "is null", "is not null"]
Scalar = Union[str, int, float, bool, None]  # noqa: UP007 - a runtime alias pydantic evaluates on 3.10


def check_identifier(value: str, what: str = "name") -> str:
    """Lower-case SQL/dbt identifier, no path characters: `a-z`, digits, underscore."""
    if not IDENTIFIER.match(value or ""):
        raise ValueError(
            f"{what} {value!r} is not a valid identifier: use lower-case letters, digits and "
            "underscores, starting with a letter (no paths, dots or spaces)"
        )
    if len(value) > 63:
        raise ValueError(f"{what} {value!r} is longer than 63 characters")
    return value


def check_column(value: str | None, what: str = "column") -> str | None:
    """A column name that generated SQL can write unquoted (None passes)."""
    if value is not None and (not COLUMN_NAME.match(value) or len(value) > 128):
        raise ValueError(
            f"{what} {value!r} is not a plain column name (letters, digits, underscores; no "
            "quotes, brackets, dots, spaces or Jinja)"
        )
    return value


def check_columns(values: list[str], what: str = "column") -> list[str]:
    for v in values:
        check_column(v, what)
    return values


def check_data_type(value: str | None) -> str | None:
    """A SQL type name, optionally with precision: nothing that could close a cast."""
    if value is not None and not DATA_TYPE.match(value.strip()):
        raise ValueError(f"data_type {value!r} is not a SQL type name (e.g. 'varchar', 'decimal(18, 2)')")
    return value


def check_data_value(value: Scalar, what: str = "value") -> Scalar:
    problem = data_problem(value)
    if problem:
        raise ValueError(f"{what} {str(value)[:60]!r} {problem}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class InputSpec(Strict):
    """A dbt node the model reads: an import CTE `alias as (select * from source/ref)`."""

    alias: str = Field(description="CTE name for this input, e.g. 'orders'.")
    kind: Literal["source", "ref"]
    source_name: str | None = Field(None, description="dbt source name when kind='source'.")
    table: str = Field(description="Source table name, or model name when kind='ref'.")
    dedupe_key: list[str] = Field(
        default_factory=list,
        description="When the input has several rows per key (duplicates, late-arriving "
        "updates), keep one row per these columns ...",
    )
    dedupe_order_by: str | None = Field(None, description="... the latest by this column (descending).")
    group_by: list[str] = Field(
        default_factory=list,
        description="Pre-aggregate the input to one row per these columns (measures of another grain, "
        "joined afterwards one-to-one) ...",
    )
    aggregates: list[MeasureSpec] = Field(
        default_factory=list, description="... with these measures (their input is this alias)."
    )

    _alias_ok = field_validator("alias")(lambda v: check_identifier(v, "input alias"))
    _group_ok = field_validator("group_by")(lambda v: check_columns(v, "group_by column"))
    _dedupe_ok = field_validator("dedupe_key")(lambda v: check_columns(v, "dedupe_key column"))
    _order_ok = field_validator("dedupe_order_by")(lambda v: check_column(v, "dedupe_order_by"))

    @field_validator("table", "source_name")
    @classmethod
    def _node_name_ok(cls, v: str | None) -> str | None:
        # Warehouse names may be upper-case, but never carry quotes, dots or path characters.
        if v is not None and not NODE_NAME.match(v):
            raise ValueError(f"{v!r} is not a dbt source or model name")
        return v

    @model_validator(mode="after")
    def _source_has_name(self) -> InputSpec:
        if self.kind == "source" and not self.source_name:
            raise ValueError(f"input {self.alias!r} is a source but has no source_name")
        if bool(self.group_by) != bool(self.aggregates):
            raise ValueError(f"input {self.alias!r}: a pre-aggregation needs both group_by and aggregates")
        if self.aggregates and self.dedupe_key:
            raise ValueError(f"input {self.alias!r}: pre-aggregate or deduplicate, not both")
        for m in self.aggregates:
            if m.input != self.alias or m.where or m.expression:
                raise ValueError(f"input {self.alias!r}: its aggregates read its own columns only")
            if m.name in self.group_by:
                raise ValueError(f"input {self.alias!r}: {m.name!r} is both grouped and aggregated")
        return self

    @property
    def columns_out(self) -> list[str] | None:
        """The columns a pre-aggregated input offers (None: the relation's own)."""
        return [*self.group_by, *(m.name for m in self.aggregates)] if self.aggregates else None


class JoinSpec(Strict):
    """`left join right on left.left_column = right.right_column` (many-to-one from left)."""

    left: str = Field(description="Alias of the input already in the query.")
    left_column: str
    right: str = Field(description="Alias of the input joined in.")
    right_column: str
    how: Literal["left", "inner"] = "left"
    cast: bool = Field(False, description="The keys' types differ (text and number): compare them as text.")

    _aliases_ok = field_validator("left", "right")(lambda v: check_identifier(v, "join alias"))
    _columns_ok = field_validator("left_column", "right_column")(lambda v: check_column(v, "join column"))


class DimensionSpec(Strict):
    """A group-by column of the output, optionally truncated to a time grain."""

    name: str = Field(description="Output column name.")
    input: str = Field(description="Input alias the column comes from.")
    column: str
    time_grain: TimeGrain | None = None
    description: str = ""

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "column name"))
    _column_ok = field_validator("column")(lambda v: check_column(v))


class RelativeDate(Strict):
    """A date relative to the day the model runs (`current_date`): `offset` periods of `grain`
    from today (0: today, -30 with day: 30 days ago), or from the start of today's period when
    `period_start` ('this month' = the first of this month; -1: the first of last month)."""

    grain: TimeGrain
    offset: int = Field(0, ge=-10000, le=1)
    period_start: bool = False


class FilterSpec(Strict):
    """A row filter applied before aggregation: `input.column op values`, or `op relative` for a
    date relative to the run date ('the last 30 days')."""

    input: str
    column: str
    op: FilterOp
    values: list[Scalar] = Field(default_factory=list)
    cast: Literal["date", "timestamp"] | None = Field(None, description="Cast the values (e.g. date literals).")
    relative: RelativeDate | None = Field(
        None, description="Compare with a date relative to the run date instead of values."
    )

    _column_ok = field_validator("column")(lambda v: check_column(v))

    @field_validator("values")
    @classmethod
    def _values_ok(cls, v: list[Scalar]) -> list[Scalar]:
        return [check_data_value(x, "filter value") for x in v]

    @model_validator(mode="after")
    def _arity(self) -> FilterSpec:
        if self.relative is not None:
            if self.op not in (">=", "<") or self.values:
                raise ValueError(f"a relative date filter on {self.column} takes op '>=' or '<' and no values")
            return self
        n = len(self.values)
        need = {"is null": 0, "is not null": 0, "between": 2}.get(self.op)
        if need is not None and n != need:
            raise ValueError(f"filter {self.column} {self.op} takes {need} values, got {n}")
        if need is None and self.op not in ("in", "not in") and n != 1:
            raise ValueError(f"filter {self.column} {self.op} takes 1 value, got {n}")
        if self.op in ("in", "not in") and n == 0:
            raise ValueError(f"filter {self.column} {self.op} needs at least one value")
        return self


class MeasureSpec(Strict):
    """An aggregate of the output. `column=None` with agg='count' counts rows; `expression`
    aggregates a scalar expression over the inputs' columns (`order_items.quantity *
    order_items.unit_price`) instead of one column; `where` makes it a conditional aggregate
    (only the rows where every condition holds count, e.g. trips on electric bikes)."""

    name: str
    agg: Aggregation
    input: str
    column: str | None = None
    expression: str | None = Field(
        None, description="A scalar SQL expression over input-qualified columns, instead of column."
    )
    where: list[FilterSpec] = Field(
        default_factory=list, description="Conditional aggregate: only rows where all of these hold."
    )
    description: str = ""

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "column name"))
    _column_ok = field_validator("column")(lambda v: check_column(v))

    @field_validator("expression")
    @classmethod
    def _expression_ok(cls, v: str | None) -> str | None:
        if v is not None:
            problems = expression_problems(v, what="measure expression")
            if problems:
                raise ValueError("; ".join(problems))
        return v

    @model_validator(mode="after")
    def _column_needed(self) -> MeasureSpec:
        if self.column is not None and self.expression is not None:
            raise ValueError(f"measure {self.name!r}: give a column or an expression, not both")
        if self.column is None and self.expression is None and self.agg != "count":
            raise ValueError(f"measure {self.name!r}: {self.agg} needs a column")
        return self


class OrderSpec(Strict):
    column: str = Field(description="Output column name.")
    direction: Literal["asc", "desc"] = "desc"

    _column_ok = field_validator("column")(lambda v: check_column(v, "order_by column"))


HavingOp = Literal["=", "!=", ">", ">=", "<", "<=", "between"]
WindowFunction = Literal[
    "running_total",
    "moving_average",
    "rank",
    "dense_rank",
    "row_number",
    "lag",
    "lead",
    "change",
    "percent_change",
    "share_of_total",
]


class HavingSpec(Strict):
    """A filter on an aggregate: keep the output rows whose measure `column op values`
    ('genres with more than 200 loans')."""

    column: str = Field(description="Output measure name.")
    op: HavingOp
    values: list[float | int] = Field(description="One number, two for between.")

    _column_ok = field_validator("column")(lambda v: check_identifier(v, "having column"))

    @model_validator(mode="after")
    def _arity(self) -> HavingSpec:
        need = 2 if self.op == "between" else 1
        if len(self.values) != need:
            raise ValueError(f"having {self.column} {self.op} takes {need} values, got {len(self.values)}")
        return self


class RatioSpec(Strict):
    """A measure computed from two others after aggregation: numerator / denominator (or a
    percentage), e.g. the share of trips on electric bikes."""

    name: str
    numerator: str = Field(description="Output measure name.")
    denominator: str = Field(description="Output measure name.")
    percent: bool = Field(False, description="Times 100.")
    description: str = ""

    _names_ok = field_validator("name", "numerator", "denominator")(lambda v: check_identifier(v, "ratio column"))


class WindowSpec(Strict):
    """A window over the aggregated rows: running totals, moving averages, ranks, the previous
    period (lag/lead), the change or percent change from it, a row's share of its partition."""

    name: str
    function: WindowFunction
    column: str | None = Field(None, description="Output column it reads (not for rank/row_number).")
    partition_by: list[str] = Field(default_factory=list, description="Output columns.")
    order_by: str | None = Field(None, description="Output column; required except for share_of_total.")
    direction: Literal["asc", "desc"] = "asc"
    periods: int | None = Field(None, ge=1, description="lag/lead/change offset (1) or moving-average width (3).")
    description: str = ""

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "window column"))
    _col_ok = field_validator("column", "order_by")(lambda v: v if v is None else check_identifier(v, "window column"))
    _part_ok = field_validator("partition_by")(lambda v: [check_identifier(x, "partition column") for x in v])

    @model_validator(mode="after")
    def _shape(self) -> WindowSpec:
        ranks = ("rank", "dense_rank", "row_number")
        if self.function not in ranks and self.column is None:
            raise ValueError(f"window {self.name!r}: {self.function} needs a column")
        if self.function != "share_of_total" and self.order_by is None:
            raise ValueError(f"window {self.name!r}: {self.function} needs order_by (an output column)")
        if self.function == "share_of_total" and self.order_by is not None:
            # An ordered sum is a running sum: the share would be of the rows so far.
            raise ValueError(
                f"window {self.name!r}: share_of_total takes no order_by (its total is over the whole "
                "partition); leave order_by out"
            )
        return self


class PivotSpec(Strict):
    """One output column per value of a low-cardinality column: the measure named by `measure`
    is split into `<measure>_<value>` columns (conditional aggregates). The values were read from
    the data at plan time; a test on the pivoted column fails when a new value appears."""

    input: str
    column: str
    values: list[Scalar] = Field(min_length=1, max_length=50)
    measure: str = Field(description="Output measure to split.")

    _column_ok = field_validator("column")(lambda v: check_column(v))
    _measure_ok = field_validator("measure")(lambda v: check_identifier(v, "pivot measure"))

    @field_validator("values")
    @classmethod
    def _values_ok(cls, v: list[Scalar]) -> list[Scalar]:
        return [check_data_value(x, "pivot value") for x in v]

    @model_validator(mode="after")
    def _names_distinct(self) -> PivotSpec:
        seen: dict[str, Scalar] = {}
        for value in self.values:
            name = _pivot_name(self.measure, value)
            if name in seen:
                raise ValueError(
                    f"pivot values {seen[name]!r} and {value!r} would both be column {name!r}: list each "
                    f"value once, and pivot a cleaned column (e.g. lower-cased in staging) when "
                    f"{self.column} has variants of one value"
                )
            seen[name] = value
        return self


class ExistsSpec(Strict):
    """Existence: keep the base rows with (or, negated, without) a related row:
    `[not] exists (select ... from input where input.column = outer.outer_column and filters)`.
    The related input is read in its own CTE and never joined (no fan-out)."""

    input: str = Field(description="Alias of the related input.")
    column: str = Field(description="Its column that refers to the outer row.")
    outer: str = Field(description="Alias of the outer input.")
    outer_column: str
    negated: bool = False
    cast: bool = Field(False, description="The keys' types differ: compare them as text.")
    filters: list[FilterSpec] = Field(default_factory=list, description="Conditions on the related rows.")

    _aliases_ok = field_validator("input", "outer")(lambda v: check_identifier(v, "exists alias"))
    _columns_ok = field_validator("column", "outer_column")(lambda v: check_column(v, "exists column"))


class TestSpec(Strict):
    """A dbt data test: generic test name (package-qualified for ours) and its arguments."""

    __test__ = False  # not a pytest class

    name: str = Field(description="e.g. 'unique', 'not_null', 'martsmith.accepted_range'.")
    column: str | None = Field(None, description="None for a model-level test.")
    arguments: dict = Field(default_factory=dict)
    severity: Literal["error", "warn"] = "error"
    reason: str = Field("", description="Evidence that produced this test (for --explain).")

    _column_ok = field_validator("column")(lambda v: check_column(v))

    @model_validator(mode="after")
    def _arguments_typed(self) -> TestSpec:
        problems = argument_problems(self.name, self.arguments, self.column)
        if problems:
            raise ValueError(f"test {self.name}: " + "; ".join(problems))
        return self


DATEPARTS = ("minute", "hour", "day", "week", "month", "year")
# Every test martsmith writes, with the type of each argument: dbt pastes arguments into SQL
# (and renders them as Jinja), so nothing else is written.
#   values: a list of data values; relation: ref('m') / source('s', 't'); column(s): names;
#   expression: a scalar SQL expression; bound: a number or a scalar SQL expression.
TEST_ARGUMENTS: dict[str, dict[str, str]] = {
    "unique": {},
    "not_null": {},
    "accepted_values": {"values": "values", "quote": "bool"},
    "relationships": {"to": "relation", "field": "column"},
    "martsmith.not_negative": {},
    "martsmith.not_empty": {},
    "martsmith.accepted_range": {"min_value": "bound", "max_value": "bound", "inclusive": "bool"},
    "martsmith.expression_is_true": {"expression": "expression"},
    "martsmith.unique_combination_of_columns": {"combination_of_columns": "columns"},
    "martsmith.relationships_where": {
        "to": "relation",
        "field": "column",
        "from_condition": "expression",
        "to_condition": "expression",
    },
    "martsmith.recency": {"field": "column", "datepart": "datepart", "interval": "interval"},
    "martsmith.values_in": {"to": "relation", "field": "column", "values": "values"},
}


def _argument_problem(kind: str, value: object) -> str | None:
    if kind == "values":
        if not isinstance(value, list) or not value:
            return "must be a non-empty list of values"
        for v in value:
            if not isinstance(v, (str, int, float, bool)):
                return f"{v!r} is not a scalar value"
            problem = data_problem(v)
            if problem:
                return f"value {str(v)[:60]!r} {problem}"
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "relation":
        return (
            None
            if isinstance(value, str) and is_relation_string(value)
            else ("must be ref('model') or source('source', 'table')")
        )
    if kind == "column":
        return None if isinstance(value, str) and COLUMN_NAME.match(value) else "must be a column name"
    if kind == "columns":
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(c, str) and COLUMN_NAME.match(c) for c in value)
        ):
            return "must be a list of column names"
        return None
    if kind == "datepart":
        return None if value in DATEPARTS else f"must be one of {', '.join(DATEPARTS)}"
    if kind == "interval":
        return (
            None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0
            else "must be a positive whole number"
        )
    if kind == "bound":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        if isinstance(value, str):
            problems = expression_problems(value, columns=set(), what="range bound")
            return "; ".join(problems) or None
        return "must be a number or a SQL expression"
    if kind == "expression":
        if not isinstance(value, str):
            return "must be a SQL expression"
        return "; ".join(expression_problems(value)) or None
    return f"has an unknown kind {kind}"  # pragma: no cover - the table above is closed


def argument_problems(name: str, arguments: dict, column: str | None = None) -> list[str]:
    """Why `arguments` are not what test `name` takes ([] when they are). A column-level
    `expression_is_true` expression continues the column (`= trim(amount)`).

    >>> argument_problems("accepted_values", {"values": ["a", "{{ 1 }}"]})
    ["values: value '{{ 1 }}' contains template delimiters ({{, {% or {#)"]
    >>> argument_problems("dbt_utils.at_least_one", {})[0][:40]
    'dbt_utils.at_least_one is not a test mar'
    """
    if name not in TEST_ARGUMENTS:
        return [f"{name} is not a test martsmith writes (one of: {', '.join(TEST_ARGUMENTS)})"]
    allowed = TEST_ARGUMENTS[name]
    out = []
    for key, value in arguments.items():
        if key not in allowed:
            out.append(f"{key}: not an argument of {name} (takes: {', '.join(allowed) or 'none'})")
            continue
        if (
            allowed[key] == "expression"
            and column
            and name == "martsmith.expression_is_true"
            and isinstance(value, str)
        ):
            value = f"{column} {value}"
        problem = _argument_problem(allowed[key], value)
        if problem:
            out.append(f"{key}: {problem}")
    return out


class ColumnSpec(Strict):
    name: str
    description: str = ""
    data_type: str | None = None

    _name_ok = field_validator("name")(lambda v: check_column(v, "column name"))
    _type_ok = field_validator("data_type")(lambda v: check_data_type(v))


def _pivot_name(measure: str, value: Scalar) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_") if value is not None else "null"
    return f"{measure}_{slug or 'value'}"[:63]


InputSpec.model_rebuild()


def pivot_columns(measure: str, values: list[Scalar]) -> list[tuple[Scalar, str]]:
    """(value, output column) for each pivot value: `<measure>_<value as identifier>`.

    >>> pivot_columns("trip_count", ["electric", "Classic bike", None])
    [('electric', 'trip_count_electric'), ('Classic bike', 'trip_count_classic_bike'), (None, 'trip_count_null')]
    """
    out: list[tuple[Scalar, str]] = []
    for v in values:
        name = _pivot_name(measure, v)
        while name in {n for _, n in out}:
            name = name[:60] + f"_{len(out)}"
        out.append((v, name))
    return out


class ModelSpec(Strict):
    """One dbt model. Either structured (inputs/joins/dimensions/measures/filters) or, for what
    the structure cannot express, a `sql_body` written by the llm planner."""

    name: str
    layer: Literal["staging", "intermediate", "marts"] = "marts"
    folder: str | None = Field(None, description="Sub-folder under the layer, e.g. 'finance'. None: the layer root.")
    materialized: Literal["table", "view"] = "table"
    description: str
    inputs: list[InputSpec] = Field(default_factory=list)
    joins: list[JoinSpec] = Field(default_factory=list)
    dimensions: list[DimensionSpec] = Field(default_factory=list)
    measures: list[MeasureSpec] = Field(default_factory=list)
    filters: list[FilterSpec] = Field(default_factory=list)
    kind: Literal["aggregate", "listing"] = Field(
        "aggregate",
        description="aggregate: dimensions are grouped (dimensions alone: one row per distinct "
        "combination); listing: the rows themselves, one output row per input row, no measures.",
    )
    distinct: bool = Field(False, description="listing only: drop duplicate rows.")
    having: list[HavingSpec] = Field(default_factory=list, description="Filters on measures, after aggregation.")
    ratios: list[RatioSpec] = Field(default_factory=list)
    windows: list[WindowSpec] = Field(default_factory=list)
    pivot: PivotSpec | None = None
    exists: list[ExistsSpec] = Field(default_factory=list)
    order_by: list[OrderSpec] = Field(default_factory=list)
    limit: int | None = Field(None, ge=1)
    sql_body: str | None = Field(
        None,
        description="A complete SELECT (with ref()/source()) when the structure can't "
        "express the request. Used instead of dimensions/measures.",
    )
    surrogate_key: str | None = Field(
        None, description="Name of a key column built from the grain with martsmith.surrogate_key."
    )
    grain: list[str] = Field(default_factory=list, description="Output columns that identify a row.")
    columns: list[ColumnSpec] = Field(default_factory=list)
    tests: list[TestSpec] = Field(default_factory=list)
    request: str = ""
    planner: str = ""
    notes: list[str] = Field(default_factory=list, description="Choices the planner made.")

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "model name"))
    _key_ok = field_validator("surrogate_key")(lambda v: v if v is None else check_identifier(v, "surrogate_key"))
    _grain_ok = field_validator("grain")(lambda v: check_columns(v, "grain column"))

    @field_validator("folder")
    @classmethod
    def _folder_ok(cls, v: str | None) -> str | None:
        return None if v is None else check_identifier(v, "folder")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        aliases = [i.alias for i in self.inputs]
        if len(set(aliases)) != len(aliases):
            raise ValueError(f"duplicate input aliases: {aliases}")
        known = set(aliases)
        items: list[DimensionSpec | MeasureSpec | FilterSpec | PivotSpec] = [
            *self.dimensions,
            *self.measures,
            *self.filters,
            *(f for m in self.measures for f in m.where),
            *([self.pivot] if self.pivot else []),
        ]
        for item in items:
            if item.input not in known:
                raise ValueError(f"{item.__class__.__name__} refers to unknown input {item.input!r}")
        for join in self.joins:
            for alias in (join.left, join.right):
                if alias not in known:
                    raise ValueError(f"join refers to unknown input {alias!r}")
        joined = {self.joins[0].left if self.joins else (aliases[0] if aliases else "")} | {j.right for j in self.joins}
        for e in self.exists:
            if e.input not in known or e.outer not in known:
                raise ValueError(f"exists refers to unknown input {e.input!r} or {e.outer!r}")
            if e.input in joined:
                raise ValueError(f"exists input {e.input!r} is also joined: it must only be read in the exists")
            if e.outer not in joined:
                raise ValueError(
                    f"exists outer {e.outer!r} is not in the query: name the base input or a joined one "
                    f"(have: {', '.join(sorted(joined))})"
                )
            for f in e.filters:
                if f.input != e.input:
                    raise ValueError(f"an exists filter must be on {e.input!r}, not {f.input!r}")
        if self.sql_body is None and self.inputs:
            # The select reads the base and its joins only: an exists input is not in its scope.
            for item in items:
                if item.input not in joined:
                    raise ValueError(
                        f"{item.__class__.__name__} reads input {item.input!r}, which is not joined: "
                        f"add a join to it, or read it in an exists (the query has: {', '.join(sorted(joined))})"
                    )
        outputs = self.output_columns
        if len(set(outputs)) != len(outputs):
            raise ValueError(f"duplicate output columns: {outputs}")
        if self.sql_body is None:
            self._check_analytics()
        return self

    def _check_analytics(self) -> None:
        if not self.inputs:
            raise ValueError("a model needs at least one input")
        if not (self.dimensions or self.measures):
            raise ValueError("a model needs at least one dimension or measure")
        if self.kind == "listing" and (self.measures or self.having or self.ratios or self.pivot):
            raise ValueError("a listing has no measures, having, ratios or pivot (use kind 'aggregate')")
        if self.distinct and self.kind != "listing":
            raise ValueError("distinct applies to a listing (an aggregate's rows are distinct already)")
        # A pivoted measure is not a column of its own: its per-value columns are.
        measures = self._measure_outputs()
        aggregated = [d.name for d in self.dimensions] + measures
        ratios = [r.name for r in self.ratios]
        if self.pivot and self.pivot.measure not in {m.name for m in self.measures}:
            raise ValueError(f"pivot measure {self.pivot.measure!r} is not a measure")
        for h in self.having:
            if h.column not in measures + ratios:
                raise ValueError(
                    f"having column {h.column!r} is not a measure or ratio (have: {', '.join(measures + ratios)}); "
                    "filter on dimensions with filters"
                )
        for r in self.ratios:
            for c in (r.numerator, r.denominator):
                if c not in measures:
                    raise ValueError(f"ratio {r.name!r}: {c!r} is not a measure (have: {', '.join(measures)})")
        # The windows are computed side by side in one select: none reads another.
        visible = aggregated + ratios
        for w in self.windows:
            for used in [w.column, w.order_by, *w.partition_by]:
                if used is not None and used not in visible:
                    raise ValueError(
                        f"window {w.name!r}: {used!r} is not an output column before the windows "
                        f"(have: {', '.join(visible)})"
                    )
        for o in self.order_by:
            if o.column not in self.output_columns:
                raise ValueError(f"order_by column {o.column!r} is not an output column")

    def _measure_outputs(self) -> list[str]:
        out = []
        for m in self.measures:
            if self.pivot and self.pivot.measure == m.name:
                out += [name for _, name in pivot_columns(m.name, self.pivot.values)]
            else:
                out.append(m.name)
        return out

    @property
    def output_columns(self) -> list[str]:
        cols = [self.surrogate_key] if self.surrogate_key else []
        return (
            cols
            + [d.name for d in self.dimensions]
            + self._measure_outputs()
            + [r.name for r in self.ratios]
            + [w.name for w in self.windows]
        )

    @property
    def relative_dir(self) -> str:
        """Directory of the model inside the project's model path, e.g. 'marts/finance'."""
        return self.layer if not self.folder else f"{self.layer}/{self.folder}"
