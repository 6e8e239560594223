"""Join paths over the catalog's foreign keys.

A foreign key `child.fk → parent.pk` is a many-to-one edge: following it from the base table
never multiplies base rows. The planner only joins along such edges, outward from the base
(fact) table, so aggregates are never double counted.

>>> from martsmith.context.catalog import Catalog, ForeignKey, Table
>>> cat = Catalog(tables=[Table("model", n, "s", n) for n in ("items", "orders", "customers")],
...               foreign_keys=[ForeignKey("items", "order_id", "orders", "id"),
...                             ForeignKey("orders", "customer_id", "customers", "id")])
>>> [e.column for e in shortest_paths(cat, "items")["customers"][0]]
['order_id', 'customer_id']
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from martsmith.context.catalog import Catalog

Path = tuple["Edge", ...]


@dataclass(frozen=True)
class Edge:
    """`table.column → ref_table.ref_column`, many-to-one."""

    table: str
    column: str
    ref_table: str
    ref_column: str
    cast: bool = False


def edges(catalog: Catalog) -> list[Edge]:
    """Distinct many-to-one edges between different tables, in a stable order."""
    known = {t.label for t in catalog.tables}
    out = {
        Edge(f.table, f.column, f.ref_table, f.ref_column, f.cast)
        for f in catalog.foreign_keys
        if f.table != f.ref_table and f.table in known and f.ref_table in known
    }
    return sorted(out, key=lambda e: (e.table, e.column, e.ref_table))


def shortest_paths(catalog: Catalog, base: str) -> dict[str, list[Path]]:
    """Every shortest many-to-one path from `base` to each reachable table (base → [()])."""
    by_table: dict[str, list[Edge]] = {}
    for e in edges(catalog):
        by_table.setdefault(e.table, []).append(e)
    paths: dict[str, list[Path]] = {base: [()]}
    depth = {base: 0}
    queue = deque([base])
    while queue:
        here = queue.popleft()
        for e in by_table.get(here, []):
            d = depth[here] + 1
            if e.ref_table not in depth:
                depth[e.ref_table] = d
                paths[e.ref_table] = []
                queue.append(e.ref_table)
            if depth[e.ref_table] == d:
                for p in paths[here]:
                    if all(x.table != e.ref_table for x in p):
                        paths[e.ref_table].append(p + (e,))
    return paths


def distance(catalog: Catalog, a: str, b: str) -> int:
    """Hops between two tables ignoring direction (a tie-breaker for linking); 99 if none."""
    if a == b:
        return 0
    nbrs: dict[str, set[str]] = {}
    for e in edges(catalog):
        nbrs.setdefault(e.table, set()).add(e.ref_table)
        nbrs.setdefault(e.ref_table, set()).add(e.table)
    seen, frontier, d = {a}, {a}, 0
    while frontier:
        d += 1
        frontier = {n for x in frontier for n in nbrs.get(x, ()) if n not in seen}
        if b in frontier:
            return d
        seen |= frontier
    return 99
