"""Questions the star planner asks the data: key containment, duplicates at a grain, minimums,
date ranges, whether a text column holds numbers. `WarehouseProbe` answers them with SQL; unit
tests pass a fake (or None: the planner then says what it could not check)."""

from __future__ import annotations

import datetime
from typing import Protocol

from martsmith.context.catalog import Table
from martsmith.context.warehouse import Warehouse, quote


class Probe(Protocol):
    def containment(self, table: Table, column: str, ref: Table, ref_column: str) -> float: ...
    def duplicates(self, table: Table, columns: list[str], limit: int = 3) -> list[tuple]: ...
    def minimum(self, table: Table, column: str) -> float | None: ...
    def numeric_text(self, table: Table, column: str) -> bool: ...
    def date_range(self, columns: list[tuple[Table, str]]) -> tuple[datetime.date, datetime.date] | None: ...


class WarehouseProbe:
    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def containment(self, table: Table, column: str, ref: Table, ref_column: str) -> float:
        c, r = quote(column), quote(ref_column)
        (total, found) = self.wh.query(
            f"select count(distinct t.{c}), count(distinct r.{r}) from {table.relation} as t "
            f"left join (select distinct {r} from {ref.relation}) as r on t.{c} = r.{r} "
            f"where t.{c} is not null"
        )[0]
        return 1.0 if not total else int(found) / int(total)

    def duplicates(self, table: Table, columns: list[str], limit: int = 3) -> list[tuple]:
        cols = ", ".join(quote(c) for c in columns)
        return self.wh.query(
            f"select {cols}, count(*) as n_rows from {table.relation} group by {cols} "
            f"having count(*) > 1 order by n_rows desc, {cols} limit {int(limit)}"
        )

    def minimum(self, table: Table, column: str) -> float | None:
        (value,) = self.wh.query(f"select min(try_cast({quote(column)} as double)) from {table.relation}")[0]
        return None if value is None else float(value)

    def numeric_text(self, table: Table, column: str) -> bool:
        q = quote(column)
        (non_null, numeric) = self.wh.query(
            f"select count({q}), count(try_cast(trim({q}) as decimal(18, 2))) from {table.relation}"
        )[0]
        return bool(non_null) and int(non_null) == int(numeric)

    def date_range(self, columns: list[tuple[Table, str]]) -> tuple[datetime.date, datetime.date] | None:
        if not columns:
            return None
        parts = " union all ".join(
            f"select min(cast({quote(c)} as date)) as lo, max(cast({quote(c)} as date)) as hi from {t.relation}"
            for t, c in columns
        )
        lo, hi = self.wh.query(f"select min(lo), max(hi) from ({parts}) as ranges")[0]
        return None if lo is None else (lo, hi)
