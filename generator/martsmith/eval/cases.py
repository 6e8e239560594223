"""An evaluation set: requests with the answer they should give, in a YAML file.

```yaml
description: Bike share questions over the trips warehouse.
cases:
  - id: trips_per_month                      # unique; used in the report
    request: number of trips per month
    gold: select date_trunc('month', started_at), count(*) from raw.trips group by 1
    shape: aggregate                          # optional tag: accuracy is also given per shape
  - id: fleet_size
    request: how many bikes are there
    gold_rows: [[120]]                        # or the expected rows themselves
```

The gold SQL is one SELECT over the warehouse (schema-qualified names); it is run read-only.

>>> suite = load_suite_text("cases: [{id: a, request: x, gold_rows: [[1]]}]")
>>> suite.cases[0].id, suite.cases[0].gold_rows
('a', [[1]])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from martsmith.errors import UsageError

MAX_CASES = 10_000


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Unique name of the case.")
    request: str = Field(description="The request, as a user would type it.")
    gold: str | None = Field(None, description="A SELECT whose rows are the right answer.")
    gold_rows: list[list[Any]] | None = Field(None, description="The right answer's rows.")
    shape: str | None = Field(None, description="A tag to group accuracy by (aggregate, window, ...).")

    @field_validator("id")
    @classmethod
    def _id_ok(cls, v: str) -> str:
        if not v.strip() or len(v) > 200:
            raise ValueError("id must be a non-empty name")
        return v

    @model_validator(mode="after")
    def _one_answer(self) -> EvalCase:
        if (self.gold is None) == (self.gold_rows is None):
            raise ValueError(f"case {self.id!r}: give exactly one of gold (SQL) or gold_rows")
        return self


class EvalSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    cases: list[EvalCase]

    @model_validator(mode="after")
    def _unique(self) -> EvalSuite:
        ids = [c.id for c in self.cases]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate case ids: {', '.join(dup)}")
        if not self.cases or len(self.cases) > MAX_CASES:
            raise ValueError(f"a suite has 1 to {MAX_CASES:,} cases")
        return self


def load_suite_text(text: str, where: str = "the cases file") -> EvalSuite:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where} is not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return EvalSuite.model_validate(data if isinstance(data, dict) else {"cases": data})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise UsageError(
            f"{where}: {loc}: {first['msg']}", hint="Each case needs id, request and one of gold (SQL) or gold_rows."
        ) from None


def load_suite(path: Path) -> EvalSuite:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}") from None
    return load_suite_text(text, str(path))
