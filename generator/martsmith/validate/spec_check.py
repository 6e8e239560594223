"""Checks of a spec against the catalog, before anything is rendered: inputs exist, referenced
columns exist in their inputs, aggregates and time grains fit the column types. Plain Python (no
SQL parser), so the parent process can run it while the SQL checks run in the check worker."""

from __future__ import annotations

from martsmith.context.catalog import Catalog, Table, type_family
from martsmith.spec import ModelSpec
from martsmith.validate.findings import Finding


def _table_for(catalog: Catalog, spec: ModelSpec, alias: str) -> Table | None:
    inp = next(i for i in spec.inputs if i.alias == alias)
    label = f"source:{inp.source_name}.{inp.table}" if inp.kind == "source" else inp.table
    return catalog.table(label)


def check_spec(spec: ModelSpec, catalog: Catalog) -> list[Finding]:
    """Inputs exist, referenced columns exist in their inputs, aggregates fit the column types."""
    findings: list[Finding] = []
    tables: dict[str, Table] = {}
    for inp in spec.inputs:
        table = _table_for(catalog, spec, inp.alias)
        if table is None:
            what = f"source('{inp.source_name}', '{inp.table}')" if inp.kind == "source" else f"ref('{inp.table}')"
            have = ", ".join(t.label for t in catalog.tables)
            findings.append(Finding("spec", f"input {inp.alias!r}: {what} is not in the project (have: {have})"))
        else:
            tables[inp.alias] = table

    offered = {i.alias: i.columns_out for i in spec.inputs if i.columns_out is not None}

    def need(alias: str, column: str | None, what: str, *, raw: bool = False) -> None:
        if column is None or alias not in tables:
            return
        if alias in offered and not raw:
            if column not in offered[alias]:
                findings.append(
                    Finding("spec", f"{what}: {alias} is pre-aggregated to {', '.join(offered[alias])}, not {column!r}")
                )
            return
        table = tables[alias]
        if table.column(column) is None:
            cols = ", ".join(c.name for c in table.columns)
            findings.append(
                Finding("spec", f"{what}: column {column!r} does not exist in {table.label} (columns: {cols})")
            )

    for inp in spec.inputs:
        for c in inp.dedupe_key + ([inp.dedupe_order_by] if inp.dedupe_order_by else []):
            need(inp.alias, c, f"input {inp.alias}")
        for c in inp.group_by + [m.column for m in inp.aggregates if m.column]:
            need(inp.alias, c, f"input {inp.alias}", raw=True)
    for j in spec.joins:
        need(j.left, j.left_column, "join")
        need(j.right, j.right_column, "join")
    for d in spec.dimensions:
        need(d.input, d.column, f"dimension {d.name}")
        if d.time_grain and d.input in tables:
            col = tables[d.input].column(d.column)
            if col is not None and type_family(col.data_type) != "time":
                findings.append(
                    Finding("spec", f"dimension {d.name}: {d.column} is {col.data_type}, not a date or timestamp")
                )
    for m in spec.measures:
        need(m.input, m.column, f"measure {m.name}")
        if m.agg in ("sum", "avg") and m.input in tables and m.column:
            col = tables[m.input].column(m.column)
            if col is not None and type_family(col.data_type) not in ("number", "boolean"):
                findings.append(
                    Finding("spec", f"measure {m.name}: {m.agg} of {m.column}, which is {col.data_type}, not a number")
                )
    for m in spec.measures:
        for f in m.where:
            need(f.input, f.column, f"measure {m.name} condition")
    for f in spec.filters:
        need(f.input, f.column, "filter")
    for e in spec.exists:
        need(e.input, e.column, "exists")
        need(e.outer, e.outer_column, "exists")
        for f in e.filters:
            need(f.input, f.column, "exists filter")
    if spec.pivot:
        need(spec.pivot.input, spec.pivot.column, "pivot")
    return findings
