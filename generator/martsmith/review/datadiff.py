"""What changed in a model's data between the base relation and the review's build of it:
schema (columns added, dropped, retyped), row counts, a primary-key join diff (rows added,
removed and changed, with the changed columns named and a few examples), a profile diff per
column (nulls, distinct, min/max/mean, top values of low-cardinality columns) from the
single-pass profiler, and a one-line verdict.

>>> DataDiff("m", base_rows=10, head_rows=10).verdict
'no data change'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from martsmith.context.catalog import Column, Table
from martsmith.context.warehouse import Warehouse, quote
from martsmith.profiling.profiler import profile_relation
from martsmith.profiling.types import TableProfile

EXAMPLES = 3
TOP_K = 10  # a top-k diff for columns with at most this many values
PROFILE_STATS = ("null_count", "distinct_count", "min", "max", "mean")


def plain(value: Any) -> Any:
    """A value as JSON holds it (and the Markdown shows it)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


@dataclass
class ColumnChange:
    column: str
    stat: str  # null_count, distinct_count, min, max, mean, top_values
    base: Any
    head: Any


@dataclass
class DataDiff:
    model: str
    status: str = "compared"  # compared | new (no base relation) | not built
    base_rows: int | None = None
    head_rows: int | None = None
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    columns_retyped: list[tuple[str, str, str]] = field(default_factory=list)  # (column, base type, head type)
    key: list[str] = field(default_factory=list)
    rows_added: int = 0
    rows_removed: int = 0
    rows_changed: int = 0
    changed_columns: dict[str, int] = field(default_factory=dict)  # column -> rows where it differs
    examples_added: list[dict] = field(default_factory=list)
    examples_removed: list[dict] = field(default_factory=list)
    examples_changed: list[dict] = field(default_factory=list)  # {key..., column: {base, head}}
    profile_changes: list[ColumnChange] = field(default_factory=list)
    note: str = ""

    @property
    def schema_changed(self) -> bool:
        return bool(self.columns_added or self.columns_removed or self.columns_retyped)

    @property
    def verdict(self) -> str:
        if self.status == "new":
            return f"new model: {self.head_rows:,} rows" if self.head_rows is not None else "new model"
        if self.status != "compared":
            return self.status
        parts = []
        if self.rows_changed:
            cols = ", ".join(sorted(self.changed_columns, key=lambda c: (-self.changed_columns[c], c)))
            parts.append(f"{self.rows_changed:,} {_rows(self.rows_changed)} changed in {cols}")
        if self.rows_added:
            parts.append(f"{self.rows_added:,} {_rows(self.rows_added)} added")
        if self.rows_removed:
            parts.append(f"{self.rows_removed:,} {_rows(self.rows_removed)} removed")
        if not self.key and self.base_rows != self.head_rows:
            parts.append(f"rows {self.base_rows:,} → {self.head_rows:,}")
        if self.columns_added:
            parts.append("columns added: " + ", ".join(self.columns_added))
        if self.columns_removed:
            parts.append("columns removed: " + ", ".join(self.columns_removed))
        if self.columns_retyped:
            parts.append("retyped: " + ", ".join(c for c, _, _ in self.columns_retyped))
        if not parts and not self.key and self.profile_changes:
            parts.append("values changed in " + ", ".join(sorted({c.column for c in self.profile_changes})))
        return "; ".join(parts) or "no data change"

    def as_dict(self) -> dict:
        data = plain(asdict(self))
        data["verdict"] = self.verdict
        return data


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


def _table(name: str, schema: str, identifier: str, columns: list[tuple[str, str]]) -> Table:
    return Table("model", name, schema, identifier, columns=[Column(c, t) for c, t in columns])


def relation_columns(wh: Warehouse, schema: str, identifier: str) -> list[tuple[str, str]] | None:
    rows = wh.query(
        "select column_name, data_type from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, identifier],
    )
    return [(c, t) for c, t in rows] or None


def diff_model(
    wh: Warehouse,
    model: str,
    base: tuple[str, str] | None,
    head: tuple[str, str] | None,
    key: list[str],
) -> DataDiff:
    """Compare the base relation (schema, identifier) with the head's build of the model."""
    out = DataDiff(model)
    head_cols = relation_columns(wh, *head) if head else None
    if head_cols is None or head is None:
        out.status = "not built"
        return out
    head_rel = f"{quote(head[0])}.{quote(head[1])}" if head else ""
    out.head_rows = int(wh.query(f"select count(*) from {head_rel}")[0][0])
    base_cols = relation_columns(wh, *base) if base else None
    if base_cols is None or base is None:
        out.status = "new"
        return out
    base_rel = f"{quote(base[0])}.{quote(base[1])}"
    out.base_rows = int(wh.query(f"select count(*) from {base_rel}")[0][0])
    b = {c.lower(): (c, t) for c, t in base_cols}
    h = {c.lower(): (c, t) for c, t in head_cols}
    out.columns_added = [h[c][0] for c in h if c not in b]
    out.columns_removed = [b[c][0] for c in b if c not in h]
    out.columns_retyped = [(h[c][0], b[c][1], h[c][1]) for c in h if c in b and b[c][1] != h[c][1]]
    common = [h[c][0] for c in h if c in b]
    key = [k for k in key if k.lower() in b and k.lower() in h]
    if key:
        out.key = key
        _key_diff(wh, out, base_rel, head_rel, key, [c for c in common if c not in key])
    base_profile = profile_relation(wh, _table(model, base[0], base[1], base_cols), key_candidates=False)
    head_profile = profile_relation(wh, _table(model, head[0], head[1], head_cols), key_candidates=False)
    out.profile_changes = profile_diff(base_profile, head_profile, common)
    return out


def _key_diff(wh: Warehouse, out: DataDiff, base_rel: str, head_rel: str, key: list[str], values: list[str]) -> None:
    # Keys compare with `is not distinct from` (a null key is a key too); a marker column says
    # which side a joined row came from.
    on = " and ".join(f"b.{quote(k)} is not distinct from h.{quote(k)}" for k in key)
    side = quote("__martsmith_side")
    bk, hk = f"b.{side}", f"h.{side}"
    joined = (
        f"from (select *, 1 as {side} from {base_rel}) as b full outer join (select *, 1 as {side} from {head_rel}) "
        f"as h on {on}"
    )
    differs = [f"b.{quote(c)} is distinct from h.{quote(c)}" for c in values]
    stats = [
        f"count(*) filter (where {bk} is null)",
        f"count(*) filter (where {hk} is null)",
        f"count(*) filter (where {bk} is not null and {hk} is not null and ({' or '.join(differs) or 'false'}))",
    ] + [f"count(*) filter (where {bk} is not null and {hk} is not null and {d})" for d in differs]
    row = wh.query(f"select {', '.join(stats)} {joined}")[0]
    out.rows_added, out.rows_removed, out.rows_changed = int(row[0]), int(row[1]), int(row[2])
    out.changed_columns = {c: int(n) for c, n in zip(values, row[3:]) if n}
    order = ", ".join(f"{quote(k)}" for k in key)
    match = " and ".join(f"o.{quote(k)} is not distinct from t.{quote(k)}" for k in key)
    if out.rows_added:
        out.examples_added = plain(
            wh.query_dicts(
                f"select * from {head_rel} as t where not exists (select 1 from {base_rel} as o where {match}) "
                f"order by {order} limit {EXAMPLES}"
            )
        )
    if out.rows_removed:
        out.examples_removed = plain(
            wh.query_dicts(
                f"select * from {base_rel} as t where not exists (select 1 from {head_rel} as o where {match}) "
                f"order by {order} limit {EXAMPLES}"
            )
        )
    if out.rows_changed:
        cols = list(out.changed_columns)
        select = [f"b.{quote(k)} as {quote(k)}" for k in key]
        select += [f"b.{quote(c)} as {quote('base__' + c)}, h.{quote(c)} as {quote('head__' + c)}" for c in cols]
        where = " or ".join(f"b.{quote(c)} is distinct from h.{quote(c)}" for c in cols)
        rows = wh.query_dicts(
            f"select {', '.join(select)} from {base_rel} as b join {head_rel} as h on {on} where {where} "
            f"order by {', '.join('b.' + quote(k) for k in key)} limit {EXAMPLES}"
        )
        for r in rows:
            example: dict[str, Any] = {k: plain(r[k]) for k in key}
            for c in cols:
                if r[f"base__{c}"] != r[f"head__{c}"]:
                    example[c] = {"base": plain(r[f"base__{c}"]), "head": plain(r[f"head__{c}"])}
            out.examples_changed.append(example)


def profile_diff(base: TableProfile, head: TableProfile, columns: list[str]) -> list[ColumnChange]:
    """Per column, the statistics that differ (nulls, distinct, min, max, mean, top values)."""
    out: list[ColumnChange] = []
    for name in columns:
        b, h = base.column(name), head.column(name)
        if b is None or h is None:
            continue
        for stat in PROFILE_STATS:
            bv, hv = plain(getattr(b, stat)), plain(getattr(h, stat))
            if isinstance(bv, float) and isinstance(hv, float) and abs(bv - hv) <= 1e-9 * max(1.0, abs(bv)):
                continue
            if bv != hv:
                out.append(ColumnChange(name, stat, bv, hv))
        if b.top_values is not None and h.top_values is not None and b.top_values != h.top_values:
            if max(len(b.top_values), len(h.top_values)) <= TOP_K:
                before = {str(v): n for v, n in plain(b.top_values)}
                after = {str(v): n for v, n in plain(h.top_values)}
                moved = sorted(v for v in {*before, *after} if before.get(v, 0) != after.get(v, 0))
                out.append(
                    ColumnChange(
                        name, "top_values", {v: before.get(v, 0) for v in moved}, {v: after.get(v, 0) for v in moved}
                    )
                )
    return out


def primary_key(tests: list[str], grain: list[str] | None) -> list[str]:
    """The key to join on: a column tested unique + not_null, a tested combination, the grain.

    >>> primary_key(["unique(k)", "not_null(k)", "not_null(x)"], None)
    ['k']
    """
    by_column: dict[str, set[str]] = {}
    for t in tests:
        name, _, rest = t.partition("(")
        if rest.endswith(")") and "=" not in rest:
            by_column.setdefault(rest[:-1], set()).add(name)
    for column, names in by_column.items():
        if {"unique", "not_null"} <= names:
            return [column]
    for column, names in by_column.items():
        if "unique" in names:
            return [column]
    for t in tests:
        if "unique_combination_of_columns(" in t and "combination_of_columns=" in t:
            inside = t.split("combination_of_columns=", 1)[1].split(")", 1)[0]
            cols = [c.strip(" '\"[]") for c in inside.split(",") if c.strip(" '\"[]")]
            if cols:
                return cols
    return list(grain or [])
