"""The rules that need the data or the base: fan-out joins (MS011), checked on the compiled SQL
of the review's build, and columns dropped while a child still reads them (MS012).

>>> join_keys("select * from a join b on a.id = b.a_id and b.kind = 'x'", )
[('b', ['a_id'])]
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from martsmith.context.warehouse import Warehouse
from martsmith.errors import WarehouseError
from martsmith.review.changes import ModelState
from martsmith.review.rules import DIALECT, ReviewFinding, line_of, parse, referenced_columns


def _joins(tree: exp.Expr) -> list[tuple[exp.Join, str, list[str]]]:
    """(join, the joined table's name, its columns in the join's equality conditions)."""
    out = []
    for join in tree.find_all(exp.Join):
        table = join.this
        on = join.args.get("on")
        if not isinstance(table, exp.Table) or on is None:
            continue
        alias = table.alias_or_name
        keys: list[str] = []
        for eq in on.find_all(exp.EQ):
            for side in (eq.left, eq.right):
                other = eq.right if side is eq.left else eq.left
                if (
                    isinstance(side, exp.Column)
                    and side.table == alias
                    and isinstance(other, exp.Column)
                    and other.table != alias
                    and side.name not in keys
                ):
                    keys.append(side.name)
        if keys:
            out.append((join, table.name if not table.args.get("db") else table.sql(dialect=DIALECT), keys))
    return out


def join_keys(sql: str) -> list[tuple[str, list[str]]]:
    tree = parse(sql)
    return [(name, keys) for _, name, keys in _joins(tree)] if tree is not None else []


def _with(sql: str, needs_ctes: bool, with_: exp.Expr | None) -> str:
    """`sql`, given the model's CTEs when it reads one of them."""
    query: exp.Expr = sqlglot.parse_one(sql, read=DIALECT)
    if needs_ctes and with_ is not None:
        query.set("with_", with_.copy())
    return query.sql(dialect=DIALECT)


def fan_out_findings(wh: Warehouse, model: ModelState, compiled: str) -> list[ReviewFinding]:
    """Each join whose key is not unique on the joined side, in the data the build read."""
    tree = parse(compiled)
    if tree is None:
        return []
    with_ = tree.args.get("with_")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    out: list[ReviewFinding] = []
    checked: set[tuple[str, tuple[str, ...]]] = set()
    for _, name, keys in _joins(tree):
        if (name, tuple(keys)) in checked:
            continue
        checked.add((name, tuple(keys)))
        cols = ", ".join(f'"{k}"' for k in keys)
        not_null = " and ".join(f'"{k}" is not null' for k in keys)
        where = f"from {name} where {not_null} group by {cols} having count(*) > 1"
        examples = _with(f"select {cols}, count(*) as n {where} order by n desc, {cols} limit 3", name in ctes, with_)
        count = _with(f"select count(*) from (select {cols} {where}) as d", name in ctes, with_)
        try:
            with wh.read_only():
                rows = wh.query(examples)
                total = wh.query(count)[0][0] if rows else 0
        except WarehouseError:
            continue  # a join the check cannot run on its own (a lateral reference): not a finding
        if not rows:
            continue
        shown = ", ".join(
            "(" + ", ".join(str(v) for v in r[:-1]) + f") ×{r[-1]}" if len(keys) > 1 else f"{r[0]} ×{r[-1]}"
            for r in rows
        )
        label = name.split(".")[-1].strip('"')
        out.append(
            ReviewFinding(
                "MS011",
                model.name,
                f"join of {label} on {', '.join(keys)}: {total:,} key values repeat on the joined side "
                f"(e.g. {shown}), so rows multiply",
                line_of(model.raw_code, rf"\bjoin\s+.*\b{re.escape(label)}\b"),
                model.path,
            )
        )
    return out


def dropped_column_findings(
    model: ModelState,
    base_columns: list[str],
    head_columns: list[str],
    children: list[ModelState],
) -> list[ReviewFinding]:
    """Columns the base had and the head lacks that a child's SQL still names."""
    head = {c.lower() for c in head_columns}
    gone = [c for c in base_columns if c.lower() not in head]
    out: list[ReviewFinding] = []
    for column in gone:
        users = sorted(c.name for c in children if column.lower() in referenced_columns(c.raw_code))
        if users:
            out.append(
                ReviewFinding(
                    "MS012",
                    model.name,
                    f"column {column} was dropped (or renamed) from {model.name}, "
                    f"but {', '.join(users)} still {'uses' if len(users) == 1 else 'use'} it",
                    None,
                    model.path,
                )
            )
    return out
