"""What the request asks for, in schema terms, before a base table and joins are chosen.

`offline.py` turns links and cues into these intents; `assemble.py` turns intents into a
`ModelSpec`. A `table=None` on a time intent means "the base table's event timestamp", decided
once the base table is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class MeasureIntent:
    agg: str
    table: str | None  # Table.label; None: rows of the base table
    column: str | None  # None: count the table's rows (or its distinct keys from another base)
    words: list[str] = field(default_factory=list)  # the request's words, for the output name
    via: str | None = None  # FK column that names the role of the table (role-playing joins)
    as_date: bool = False  # 'first trip date': the min/max of a timestamp, as a date


@dataclass
class DimensionIntent:
    table: str | None
    column: str | None  # None with a table: the entity itself (its key, plus a label column)
    grain: str | None = None
    words: list[str] = field(default_factory=list)
    via: str | None = None
    grouped: bool = False  # named after 'by' / 'per' / 'for each'


@dataclass
class FilterIntent:
    table: str | None  # None: a date filter on the time dimension or the base event timestamp
    column: str | None
    op: str
    values: list = field(default_factory=list)
    cast: str | None = None
    via: str | None = None
    text: str = ""
    at: int = -1  # token index of its words (a share's conditions follow the share phrase)
    relative: tuple | None = None  # (grain, offset, period_start): a date relative to the run date


@dataclass
class DateIntent:
    """A date filter still to be placed on a time column."""

    op: str  # '>=', '<', 'range'
    start: date | None
    end: date | None
    table: str | None = None
    column: str | None = None
    text: str = ""
    relative: tuple | None = None  # see cues.DateCue

    def filters(self, table: str, column: str) -> list[FilterIntent]:
        if self.relative is not None:
            start, end = self.relative
            out = [FilterIntent(table, column, ">=", [], "date", text=self.text, relative=start)]
            if end is not None:
                out.append(FilterIntent(table, column, "<", [], "date", text=self.text, relative=end))
            return out
        assert self.start is not None
        if self.op == "range":
            return [
                FilterIntent(table, column, ">=", [self.start.isoformat()], "date", text=self.text),
                FilterIntent(table, column, "<", [self.end.isoformat()], "date", text=self.text),  # type: ignore[union-attr]
            ]
        return [FilterIntent(table, column, self.op, [self.start.isoformat()], "date", text=self.text)]


@dataclass
class OrderIntent:
    """Sort the output by a column (table, column) or by measure number `measure`."""

    direction: str
    table: str | None = None
    column: str | None = None
    measure: int | None = None
    text: str = ""


@dataclass
class HavingIntent:
    """Keep the groups whose count of `table` rows (or agg of its column) compares to values."""

    agg: str
    table: str
    column: str | None
    op: str
    values: list
    text: str = ""


@dataclass
class ExistsIntent:
    """Keep the subject's rows with (or without) a related row of `table`."""

    table: str
    negated: bool
    text: str = ""
    filters: list[FilterIntent] = field(default_factory=list)


@dataclass
class Intent:
    measures: list[MeasureIntent] = field(default_factory=list)
    dimensions: list[DimensionIntent] = field(default_factory=list)
    filters: list[FilterIntent] = field(default_factory=list)
    dates: list[DateIntent] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # tables named without another role
    qualifiers: list[str] = field(default_factory=list)  # tables named to qualify a column ('employees hired')
    context: list[str] = field(default_factory=list)  # every table the request names
    limit: int | None = None
    direction: str = "desc"
    notes: list[str] = field(default_factory=list)
    kind: str = "aggregate"  # or 'listing': the rows themselves
    distinct: bool = False
    order: list[OrderIntent] = field(default_factory=list)
    having: list[HavingIntent] = field(default_factory=list)
    exists: list[ExistsIntent] = field(default_factory=list)
    event: str | None = None  # table whose event a verb names ('who borrowed' -> loans)
    latest: str | None = None  # table: one row per grouped entity, its latest by event time
    windows: list[tuple[str, int | None]] = field(default_factory=list)  # (function, periods)
    ranked: list[str] = field(default_factory=list)  # tables ranked within the other dimensions
    pivot: tuple[str, str] | None = None  # (table, column) whose values become columns
    share: tuple[bool, list[FilterIntent]] | None = None  # (as a percentage, the numerator's conditions)
