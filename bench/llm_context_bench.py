"""Benchmark of the llm planner's schema context on a synthetic warehouse of 1,000 tables: are
the tables a request needs in the prompt, and how big is the prompt?

The warehouse: 25 sources (shop, bike, hr, ...) of 40 tables each, drawn from one pool of
entities, so that `customers` or `orders` exist in many sources, as in a real warehouse.
Every table has a key (`id`, `<entity>_id`, or one named after the last word of its entity,
like `event_id`), 1-3 foreign keys to tables of its source (a fifth of them role-playing:
`start_station_id`), 6-30 attribute columns from a shared pool (`city`, `status`, `amount`
are in hundreds of tables) and low-cardinality values; a third carry a description. Requests
come from templates with known answers — a measure by an attribute of a joined table (through a
role-playing key, too), a count filtered by a value, an anti-join — naming their source as an
analyst would ("bike trips ..."), or, for two in five of those whose pair of tables is in one
source only, not naming it. No network and no model: the prompt is built as
`martsmith model --llm` builds it (plan/prompt.py) and measured with litellm's `token_counter`.

Reported: recall (the share of requests whose every needed table is in the context; goal
>= 95 %), and the prompt's size in tokens, median, 95th percentile and maximum (goal <= 8,000).

Usage: .venv/bin/python bench/llm_context_bench.py [--requests 300] [--seed 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generator"))

from martsmith.context.catalog import Catalog, Column, ForeignKey, Table  # noqa: E402
from martsmith.plan.prompt import build_messages  # noqa: E402

SOURCES = (
    "shop bike hr crm billing logistics support marketing finance inventory fleet clinic school "
    "library hotel airline energy telecom insurance bank media games ticketing property farm"
).split()
ENTITIES = (
    "customer order product invoice payment shipment station trip rider vehicle driver employee "
    "department salary candidate account contact lead campaign ticket agent refund warehouse "
    "supplier purchase item subscription plan device meter reading patient doctor appointment "
    "student course enrollment teacher book loan member room booking guest flight passenger "
    "airport crew policy claim premium branch transfer card article author subscriber episode "
    "player match tournament venue seat event tenant lease unit field harvest crop animal "
    "inspection region store promotion review session page visit partner contract task project "
    "invoice_line order_item trip_event route stop maintenance fuel_log"
).split()
ATTRIBUTES = (
    "name city country region status category type amount price quantity total discount "
    "created_at updated_at email phone score rating duration_minutes distance_km weight_kg "
    "currency channel priority level segment tier language source notes code is_active "
    "started_at ended_at due_date balance capacity color size brand"
).split()
VALUES = {
    "status": ["active", "inactive", "pending", "cancelled", "delayed", "completed"],
    "category": ["premium", "standard", "budget", "clearance"],
    "type": ["internal", "external", "partner"],
    "channel": ["web", "mobile", "retail", "phone"],
    "priority": ["low", "medium", "high", "urgent"],
    "segment": ["enterprise", "smb", "consumer"],
    "tier": ["gold", "silver", "bronze"],
    "currency": ["eur", "usd", "gbp"],
    "language": ["english", "german", "french", "spanish"],
    "color": ["red", "green", "blue", "black"],
}
ROLES = "start end origin destination billing shipping home manager primary".split()
NUMERIC = {"amount", "price", "quantity", "total", "discount", "score", "rating", "duration_minutes",
           "distance_km", "weight_kg", "balance", "capacity"}  # fmt: skip
TABLES_PER_SOURCE = 40


def plural(entity: str) -> str:
    return entity + ("es" if entity.endswith(("s", "ch", "sh")) else "s")


@dataclass
class Warehouse:
    catalog: Catalog
    attributes: dict[str, list[str]]  # label -> attribute columns
    links: list[tuple[str, str, str, str | None]]  # (table, column, ref_table, role)


def synthetic_warehouse(seed: int) -> Warehouse:
    rng = random.Random(seed)
    tables: list[Table] = []
    fks: list[ForeignKey] = []
    attributes: dict[str, list[str]] = {}
    links: list[tuple[str, str, str, str | None]] = []
    for source in SOURCES:
        entities = rng.sample(ENTITIES, TABLES_PER_SOURCE)
        here: list[Table] = []
        for entity in entities:
            name = plural(entity)
            key = rng.choice(["id", f"{entity}_id", f"{entity}_id"])
            if "_" in entity and rng.random() < 0.5:
                key = entity.rsplit("_", 1)[1] + "_id"  # event_id in trip_events: not found by the catalog
            attrs = rng.sample(ATTRIBUTES, rng.randint(6, 30))
            columns = [Column(key, "INTEGER")]
            for a in attrs:
                dtype = "DOUBLE" if a in NUMERIC else "TIMESTAMP" if a.endswith(("_at", "_date")) else "VARCHAR"
                columns.append(Column(a, dtype, values=VALUES.get(a)))
            table = Table(
                "source",
                name,
                "raw_" + source,
                name,
                source_name=source,
                columns=columns,
                row_count=rng.randint(100, 10_000_000),
                primary_key=key if key in ("id", f"{entity}_id") else None,
                description=f"One row per {entity} of the {source} system." if rng.random() < 0.33 else "",
            )
            attributes[table.label] = attrs
            here.append(table)
        for table in here:
            for target in rng.sample([t for t in here if t is not table], rng.randint(1, 3)):
                entity = (
                    target.name[:-2]
                    if target.name.endswith("es") and target.name[:-2] in ENTITIES
                    else target.name[:-1]
                )
                role = rng.choice(ROLES) if rng.random() < 0.2 else None
                column = f"{role}_{entity}_id" if role else f"{entity}_id"
                if table.column(column) is not None:
                    continue
                table.columns.insert(1, Column(column, "INTEGER"))
                links.append((table.label, column, target.label, role))
                if role is None and target.primary_key:  # what the catalog's own inference finds
                    fks.append(ForeignKey(table.label, column, target.label, target.primary_key))
        tables += here
    rng.shuffle(tables)
    return Warehouse(Catalog(tables=tables, foreign_keys=fks), attributes, links)


def requests(wh: Warehouse, n: int, seed: int) -> list[tuple[str, set[str]]]:
    """(request, labels of the tables it needs), from three templates. Two in five leave the
    source out where the pair of tables they name is in one source only (the pair, not either
    table, says which)."""
    rng = random.Random(seed + 1)
    by_label = {t.label: t for t in wh.catalog.tables}
    pairs: dict[tuple[str, str], int] = {}
    for table, _, target, _ in wh.links:
        key = (by_label[table].name, by_label[target].name)
        pairs[key] = pairs.get(key, 0) + 1
    out: list[tuple[str, set[str]]] = []
    while len(out) < n:
        kind = rng.choice(["join", "join", "filter", "anti"])
        table, column, target, role = rng.choice(wh.links)
        a, b = by_label[table], by_label[target]
        unique_pair = pairs[(a.name, b.name)] == 1 and kind != "filter"
        source = "" if unique_pair and rng.random() < 0.4 else a.source_name or ""
        if kind == "join":
            measures = [x for x in wh.attributes[a.label] if x in NUMERIC]
            groups = [x for x in wh.attributes[b.label] if x not in NUMERIC and not x.endswith(("_at", "_date"))]
            if not measures or not groups:
                continue
            via = f"{role} " if role else ""
            entity = column.removesuffix("_id").removeprefix(f"{role}_") if role else column.removesuffix("_id")
            group = f"{via}{entity.replace('_', ' ')} {rng.choice(groups)}"
            text = f"total {rng.choice(measures)} of {source} {a.name} by {group}".replace("  ", " ")
            out.append((text, {a.label, b.label}))
        elif kind == "filter":
            valued = [c for c in a.columns if c.values]
            if not valued:
                continue
            col = rng.choice(valued)
            out.append((f"number of {source} {a.name} that are {rng.choice(col.values or [])}", {a.label}))
        else:
            out.append((f"{source} {b.name} without any {a.name.replace('_', ' ')}".strip(), {a.label, b.label}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import litellm  # the token counter; imported here: the warehouse and requests need none of it

    wh = synthetic_warehouse(args.seed)
    cases = requests(wh, args.requests, args.seed)
    by_label = {t.label: t for t in wh.catalog.tables}
    hits, sizes, misses, seconds = 0, [], [], []
    for text, needed in cases:
        start = time.perf_counter()
        messages = build_messages(text, wh.catalog)
        seconds.append(time.perf_counter() - start)
        context = messages[1]["content"]
        shown = {label for label in needed if f'"table": "{by_label[label].jinja().strip("{} ")}"' in context}
        if shown == needed:
            hits += 1
        else:
            misses.append({"request": text, "missing": sorted(needed - shown)})
        sizes.append(litellm.token_counter(model="gpt-4o-mini", messages=messages))
    sizes.sort()
    result = {
        "tables": len(wh.catalog.tables),
        "requests": len(cases),
        "recall": round(hits / len(cases), 4),
        "prompt_tokens": {
            "median": int(statistics.median(sizes)),
            "p95": sizes[int(0.95 * (len(sizes) - 1))],
            "max": sizes[-1],
        },
        "context_seconds_median": round(statistics.median(seconds), 4),
        "misses": misses[:10],
    }
    print(
        f"{result['tables']} tables, {result['requests']} requests: recall {result['recall']:.1%} "
        f"(goal >= 95 %); prompt tokens median {result['prompt_tokens']['median']:,}, "
        f"p95 {result['prompt_tokens']['p95']:,}, max {result['prompt_tokens']['max']:,} (goal <= 8,000); "
        f"context built in {result['context_seconds_median'] * 1000:.0f} ms (median)"
    )
    for miss in misses[:5]:
        print(f"  missed: {miss['request']!r}: {', '.join(miss['missing'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["recall"] >= 0.95 and result["prompt_tokens"]["max"] <= 8000 else 1


if __name__ == "__main__":
    sys.exit(main())
