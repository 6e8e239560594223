"""`StarSpec`: a star (or snowflake) schema as data — staging models, dimensions, a date
dimension and facts — between the star planner and the star renderer.

Like `ModelSpec`, every model is strict (`extra="forbid"`), so an LLM answer with a stray field
is rejected with a message that names it.

>>> d = StarDimension(name="dim_customer", entity="customer", base="stg_shop__customers",
...     natural_key="customer_id", attributes=["country"])
>>> d.surrogate_key
'customer_key'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from martsmith.context.catalog import entity_of
from martsmith.spec import TestSpec, check_column, check_columns, check_data_type, check_identifier


def _node(value: str | None, what: str = "model name") -> str | None:
    """A dbt node this spec names (a model it writes or reads): a plain identifier, no paths."""
    return None if value is None else check_identifier(value, what)


Transform = Literal["none", "trim_lower", "trim", "cast_number", "cast_timestamp"]
Additivity = Literal["additive", "semi_additive", "non_additive"]
UNKNOWN_DATE_KEY = -1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StagedColumn(Strict):
    """One column of a staging model: `transform(source_column) as name`."""

    name: str
    source_column: str
    data_type: str = Field(description="Type after the transform, e.g. 'varchar', 'decimal(18,2)'.")
    transform: Transform = "none"

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "column name"))
    _source_ok = field_validator("source_column")(lambda v: check_column(v, "source_column"))
    _type_ok = field_validator("data_type")(lambda v: check_data_type(v))


class StagingSpec(Strict):
    """`stg_<source>__<table>`: renamed, cleaned and (when the key repeats) deduplicated."""

    name: str
    source_name: str
    table: str
    key: str = Field(description="Cleaned name of the table's key, e.g. 'order_id'.")
    columns: list[StagedColumn]
    dedupe_order_by: str | None = Field(
        None, description="When the key is not unique: keep the latest row per key by this (cleaned) column."
    )
    dedupe: bool = False
    keep_versions: bool = Field(
        False,
        description="For a type-2 dimension: keep every version of a key, one row per key "
        "and dedupe_order_by (exact duplicate rows dropped), instead of only the latest.",
    )
    existing: bool = Field(False, description="The model already exists: reuse it, don't render.")

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "model name"))
    _source_ok = field_validator("source_name", "table")(lambda v: check_column(v, "source or table name"))
    _key_ok = field_validator("key", "dedupe_order_by")(lambda v: check_column(v, "key column"))

    def column(self, name: str) -> StagedColumn | None:
        return next((c for c in self.columns if c.name == name), None)


class Outrigger(Strict):
    """Snowflake: a dimension attribute normalised into its own dimension (product -> category)."""

    attribute: str = Field(description="The attribute column in the base, e.g. 'category'.")
    dimension: str = Field(description="The dimension it moves to, e.g. 'dim_category'.")

    _attribute_ok = field_validator("attribute")(lambda v: check_column(v, "attribute"))
    _dimension_ok = field_validator("dimension")(lambda v: _node(v, "dimension"))


class StarDimension(Strict):
    """`dim_<entity>`: one row per natural key (SCD type 1: the latest values), a surrogate key
    `<entity>_key` built with martsmith.surrogate_key, and an unknown member.

    SCD type 2 (`scd_type=2`): one row per version of the natural key, dated by the base's
    `versioned_by` column, with valid_from / valid_to / is_current (see martsmith.star.scd2)."""

    name: str
    entity: str
    base: str = Field(description="Staging model the dimension reads.")
    natural_key: str
    attributes: list[str] = Field(default_factory=list)
    scd_type: Literal[1, 2] = 1
    versioned_by: str | None = Field(
        None, description="Type 2: the base column (updated_at-like) that dates each version."
    )
    outriggers: list[Outrigger] = Field(default_factory=list)
    distinct_of: str | None = Field(
        None,
        description="A dimension of the distinct values of this base column (snowflake "
        "outrigger): natural_key is that column.",
    )
    reason: str = ""

    _name_ok = field_validator("name", "entity")(lambda v: check_identifier(v, "name"))
    _base_ok = field_validator("base")(lambda v: _node(v, "base"))
    _columns_ok = field_validator("natural_key", "versioned_by", "distinct_of")(lambda v: check_column(v))
    _attributes_ok = field_validator("attributes")(lambda v: check_columns(v, "attribute"))

    @property
    def surrogate_key(self) -> str:
        return f"{self.entity}_key"

    @model_validator(mode="after")
    def _type2_dated(self) -> StarDimension:
        if self.scd_type == 2 and (self.versioned_by is None or self.distinct_of is not None):
            raise ValueError(
                f"{self.name}: a type-2 dimension needs versioned_by and cannot be a distinct_of outrigger"
            )
        return self


class DateDimension(Strict):
    """`dim_date` from martsmith.date_spine, [start_date, end_date) plus an unknown member -1."""

    name: str = "dim_date"
    start_date: str = Field(description="ISO date, inclusive.")
    end_date: str = Field(description="ISO date, exclusive.")
    reason: str = ""

    _name_ok = field_validator("name")(lambda v: _node(v, "date dimension name"))

    @field_validator("start_date", "end_date")
    @classmethod
    def _iso(cls, v: str) -> str:
        import datetime

        datetime.date.fromisoformat(v)
        return v


class ParentJoin(Strict):
    """A header table joined many-to-one into the fact (order_items -> orders)."""

    alias: str
    base: str = Field(description="Staging model of the parent.")
    fact_column: str = Field(description="Column of the fact base pointing at the parent.")
    parent_key: str

    _alias_ok = field_validator("alias")(lambda v: check_identifier(v, "parent alias"))
    _base_ok = field_validator("base")(lambda v: _node(v, "base"))
    _columns_ok = field_validator("fact_column", "parent_key")(lambda v: check_column(v))


class EventTime(Strict):
    """A time column of one of the fact's inputs: when the fact's event happened."""

    input: str = Field(description="'fact' or a parent alias.")
    column: str

    _column_ok = field_validator("column")(lambda v: check_column(v))


class FactForeignKey(Strict):
    """A fact column pointing at a dimension. For an entity dimension: looked up by the natural
    key found in `input.column`; for dim_date: the date of `input.column` (role-playing)."""

    name: str = Field(description="e.g. 'customer_key', 'order_date_key'.")
    dimension: str
    input: str = Field(description="'fact' or a parent alias.")
    column: str
    role: Literal["entity", "date"] = "entity"
    as_of: EventTime | None = Field(
        None, description="For a type-2 dimension: the event time that picks the version valid then."
    )

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "foreign key name"))
    _dimension_ok = field_validator("dimension")(lambda v: _node(v, "dimension"))
    _column_ok = field_validator("column")(lambda v: check_column(v))


class FactMeasure(Strict):
    name: str
    input: str = "fact"
    column: str
    additivity: Additivity = "additive"
    not_negative: bool = Field(
        False,
        description="Test that the measure is never negative (for a "
        "planner that cannot profile; the offline planner fills `tests`).",
    )
    tests: list[TestSpec] = Field(
        default_factory=list,
        description="Data tests inferred from a profile of the staged data and checked against it.",
    )

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "measure name"))
    _column_ok = field_validator("column")(lambda v: check_column(v))


class DegenerateDimension(Strict):
    name: str
    input: str = "fact"
    column: str

    _name_ok = field_validator("name")(lambda v: check_identifier(v, "degenerate dimension name"))
    _column_ok = field_validator("column")(lambda v: check_column(v))


class StarFact(Strict):
    """`fct_<process>`: one row per grain of the base, keys to dimensions, measures."""

    name: str
    process: str
    base: str = Field(description="Staging model at the fact's grain.")
    grain: list[str] = Field(description="Columns of the base that identify a row.")
    parents: list[ParentJoin] = Field(default_factory=list)
    foreign_keys: list[FactForeignKey] = Field(default_factory=list)
    measures: list[FactMeasure] = Field(default_factory=list)
    degenerate: list[DegenerateDimension] = Field(default_factory=list)
    reason: str = ""

    _name_ok = field_validator("name", "process")(lambda v: check_identifier(v, "model name"))
    _base_ok = field_validator("base")(lambda v: _node(v, "base"))
    _grain_ok = field_validator("grain")(lambda v: check_columns(v, "grain column"))

    @property
    def surrogate_key(self) -> str:
        return entity_of(self.name) + "_key"

    @model_validator(mode="after")
    def _inputs_known(self) -> StarFact:
        known = {"fact"} | {p.alias for p in self.parents}
        items: list[FactForeignKey | FactMeasure | DegenerateDimension] = [
            *self.foreign_keys,
            *self.measures,
            *self.degenerate,
        ]
        for item in items:
            if item.input not in known:
                raise ValueError(f"{self.name}: {item.name} reads unknown input {item.input!r}")
        for fk in self.foreign_keys:
            if fk.as_of is not None and fk.as_of.input not in known:
                raise ValueError(f"{self.name}: {fk.name} takes its time from unknown input {fk.as_of.input!r}")
        return self


class StarSpec(Strict):
    area: str = Field(description="Marts sub-folder, e.g. 'sales'.")
    source_name: str
    staging: list[StagingSpec] = Field(default_factory=list)
    dimensions: list[StarDimension] = Field(default_factory=list)
    date_dimension: DateDimension | None = None
    facts: list[StarFact]
    snowflake: bool = False
    request: str = ""
    planner: str = "offline"
    reasons: list[str] = Field(default_factory=list, description="Why each table got its role.")
    notes: list[str] = Field(default_factory=list)

    _area_ok = field_validator("area")(lambda v: check_identifier(v, "area"))
    _source_ok = field_validator("source_name")(lambda v: check_column(v, "source name"))

    @model_validator(mode="after")
    def _consistent(self) -> StarSpec:
        if not self.facts:
            raise ValueError("a star schema needs at least one fact")
        dims = {d.name for d in self.dimensions} | ({self.date_dimension.name} if self.date_dimension else set())
        for f in self.facts:
            for fk in f.foreign_keys:
                if fk.dimension not in dims:
                    raise ValueError(f"{f.name}.{fk.name} points at unknown dimension {fk.dimension!r}")
        return self

    def staging_model(self, name: str) -> StagingSpec | None:
        return next((s for s in self.staging if s.name == name), None)

    @property
    def new_models(self) -> list[str]:
        out = [s.name for s in self.staging if not s.existing]
        out += [d.name for d in self.dimensions]
        out += [self.date_dimension.name] if self.date_dimension else []
        return out + [f.name for f in self.facts]
