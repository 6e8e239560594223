"""The state the star planner's passes share: one `StarPlan`, filled in pass by pass.

Each pass (star/plan.py `PASSES`, star/facts.py `FACT_PASSES`) reads the fields earlier passes
set and sets its own, so a test can build a StarPlan by hand and run one pass on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from martsmith.context.catalog import Catalog, ForeignKey, Table
from martsmith.star.probe import Probe
from martsmith.star.spec import DateDimension, StagingSpec, StarDimension, StarFact, StarSpec
from martsmith.star.staging import plan_staging


@dataclass
class StarPlan:
    """What the passes read and fill in, field groups in pass order. `notes` and `reasons`
    grow as passes go; `spec` is the result once `assemble` has run."""

    catalog: Catalog
    source: str
    tables: list[Table]
    description: str | None = None
    snowflake: bool = False
    area: str | None = None
    probe: Probe | None = None
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    fks: list[ForeignKey] = field(default_factory=list)
    # link_request: what the description names (named_dims None: every dimension reached)
    named_fact: Table | None = None
    named_dims: list[Table] | None = None
    want_dates: bool = True
    area_word: str | None = None
    # fact_candidates, choose_facts
    candidates: list[Table] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    fact_tables: list[Table] = field(default_factory=list)
    # draft_facts
    staging: dict[str, StagingSpec] = field(default_factory=dict)  # by table label, in order of first use
    dims: dict[str, StarDimension] = field(default_factory=dict)
    facts: list[StarFact] = field(default_factory=list)
    date_columns: list[tuple[Table, str]] = field(default_factory=list)
    used_by_fact: set[str] = field(default_factory=set)
    # date_dimension, snowflake, assemble
    date_dimension: DateDimension | None = None
    dimensions: list[StarDimension] = field(default_factory=list)
    spec: StarSpec | None = None

    @property
    def by_label(self) -> dict[str, Table]:
        return {t.label: t for t in self.tables}

    def stage(self, t: Table) -> StagingSpec:
        """The staging model of `t`, planned on first use."""
        if t.label not in self.staging:
            grain_of = f"fct_{t.name}" if t in self.fact_tables else None
            self.staging[t.label] = plan_staging(t, self.catalog, self.probe, self.notes, grain_of=grain_of)
        return self.staging[t.label]


Pass = Callable[[StarPlan], StarPlan]
