"""What a profile says about a relation. Produced by profiler.profile_relation; read by test
inference, the planners and `martsmith profile`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Family = Literal["text", "number", "time", "boolean", "other"]


@dataclass
class ColumnProfile:
    name: str
    data_type: str
    family: Family
    null_count: int
    distinct_count: int
    distinct_approximate: bool = False  # approx_count_distinct was used (large tables)
    min: Any = None
    max: Any = None
    # Every value with its count when the column has few distinct values (low cardinality).
    top_values: list[tuple[Any, int]] | None = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: dict[str, float] | None = None  # {"p01": .., "p25": .., "p50": .., "p75": .., "p99": ..}
    quantiles_approximate: bool = False  # computed on a deterministic sample of rows (large tables)
    min_length: int | None = None
    max_length: int | None = None
    negative_count: int | None = None  # numbers below zero

    @property
    def non_null(self) -> int:
        return -1 if self.null_count is None else self.null_count


@dataclass
class TableProfile:
    label: str  # how dbt selects it: source:shop.orders or stg_orders
    relation: str  # the physical relation that was profiled
    row_count: int
    columns: list[ColumnProfile] = field(default_factory=list)
    # Column sets whose values are unique and non-null in the data: single columns first, then
    # composite keys of up to 3 columns among plausible candidates.
    key_candidates: list[list[str]] = field(default_factory=list)
    # Large tables only: column sets that are probably keys but were not checked exactly (too
    # costly): the approximate distinct count is within HyperLogLog error of the row count and
    # an exact check of a hash slice of their values found no duplicate. Not in key_candidates.
    unverified_key_candidates: list[list[str]] = field(default_factory=list)
    queries: int = 0  # how many queries the profile took (the point is: few)

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def as_dict(self) -> dict:
        return asdict(self)
