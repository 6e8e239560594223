"""Questions the star planner asks the data: key containment, duplicates at a grain, date
ranges, whether a text column holds numbers, and which tests the measures' data supports.
`WarehouseProbe` answers them with SQL; unit tests pass a fake (or None: the planner then says
what it could not check)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Protocol

from martsmith.context.catalog import Catalog, Column, Table
from martsmith.context.warehouse import Warehouse, quote
from martsmith.inference import check_tests, infer_tests
from martsmith.profiling.profiler import profile_relation
from martsmith.render.jinja_static import render_static
from martsmith.star.render import render_staging

if TYPE_CHECKING:
    from martsmith.inference.check import CheckResult
    from martsmith.star.spec import StagingSpec

MEASURE_TESTS = ("martsmith.not_negative", "martsmith.accepted_range")
STAGED_VIEW = "martsmith_staged__{}"


class Probe(Protocol):
    def containment(self, table: Table, column: str, ref: Table, ref_column: str) -> float: ...
    def duplicates(self, table: Table, columns: list[str], limit: int = 3) -> list[tuple]: ...
    def numeric_text(self, table: Table, column: str) -> bool: ...
    def date_range(self, columns: list[tuple[Table, str]]) -> tuple[datetime.date, datetime.date] | None: ...
    def measure_checks(self, staging: StagingSpec, table: Table, columns: list[str]) -> list[CheckResult]: ...


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

    def numeric_text(self, table: Table, column: str) -> bool:
        q = quote(column)
        if self.wh.adapter == "duckdb":
            numbers = f"count(try_cast(trim({q}) as decimal(18, 2)))"
        else:  # no try_cast (Postgres): the text of a decimal number
            numbers = f"count(case when regexp_matches(trim({q}), '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)$') then 1 end)"
        (non_null, numeric) = self.wh.query(f"select count({q}), {numbers} from {table.relation}")[0]
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

    def measure_checks(self, staging: StagingSpec, table: Table, columns: list[str]) -> list[CheckResult]:
        """Measure tests (not_negative, accepted_range) inferred from a profile of the *staged*
        data and checked against it, by martsmith.inference and its evidence policy.

        `table` is the source the staging model reads (or the staging model itself when it
        already exists). The staged rows are a temporary view of this connection: nothing is
        left in the warehouse.
        """
        staged = self._staged(staging, table, columns)
        try:
            profile = profile_relation(self.wh, staged, key_candidates=False)
            catalog = Catalog(tables=[staged])
            wanted = set(columns)
            tests = [
                t for t in infer_tests(staged, profile, catalog, {}) if t.column in wanted and t.name in MEASURE_TESTS
            ]
            return check_tests(self.wh, staged, profile, tests, catalog)
        finally:
            if staged.identifier == STAGED_VIEW.format(staging.name):
                self.wh.execute(f"drop view if exists {staged.relation}")

    def _staged(self, staging: StagingSpec, table: Table, columns: list[str]) -> Table:
        """A Table for the staged key + measure columns: the existing model, or a temp view."""
        keep = [staging.key, *columns]
        if table.kind == "model":
            cols = [Column(c.name, c.data_type) for c in table.columns if c.name in keep]
            return Table(
                kind="model",
                name=table.name,
                schema=table.schema,
                identifier=table.identifier,
                database=table.database,
                columns=cols,
                primary_key=staging.key,
            )
        sql = render_static(render_staging(staging), {("source", staging.source_name, staging.table): table.relation})
        view = STAGED_VIEW.format(staging.name)
        picked = ", ".join(quote(c) for c in keep)
        self.wh.execute(f"create or replace temp view {quote(view)} as select {picked} from ({sql}) as staged")
        types = {c.name: c.data_type for c in staging.columns}
        # Named like the source table, so findings read "3 order items have ...". A temp view
        # lives in DuckDB's temp.main, in Postgres' pg_temp, in no schema on Spark.
        duckdb = self.wh.adapter == "duckdb"
        return Table(
            kind="model",
            name=table.name,
            schema="main" if duckdb else self.wh.temp_schema,
            identifier=view,
            database="temp" if duckdb else (table.database if self.wh.temp_schema else None),
            columns=[Column(c, types.get(c, "varchar")) for c in keep],
            primary_key=staging.key,
        )
