"""Planning speed: the offline planner on synthetic catalogs, and `model --dry-run` warm vs cold.

1. `plan_offline` in-process on a synthetic catalog of 50 tables and of 1,000 tables (targets:
   <= 0.2 s and <= 1 s per request), alternating with a baseline in the same session: one linear
   pass over the same catalog (`Catalog.schema_for_sqlglot()`), so the ratio says how many
   catalog passes a plan costs whatever the machine's load.
2. `martsmith model REQUEST --dry-run` on the sample project: warm (the context cached by an
   earlier command) against cold (the cache removed before each run: the dbt parse every command
   paid before), alternating; the same for a refusal. Target: warm dry-run <= 2 s.
3. `--profile`: cProfile of the planner on the 1,000-table catalog; the functions of
   generator/martsmith/plan/ by their own time go to bench/results/plan_profile.txt.

The synthetic catalog (`synthetic_catalog(n)`) is a shop core — customers, orders, order items,
products, payments, stores — with declared foreign keys, low-cardinality values, row counts and
types, and n - 6 tables of other business domains around it (each with a key, text dimensions
with values, numeric measures, a timestamp, and foreign keys to the core and to each other), so
that linking has as many names to look through as a large warehouse gives it.

Usage: .venv/bin/python bench/plan_speed.py [--runs 7] [--cli-runs 5] [--skip-cli] [--profile]
       [--json bench/results/plan_speed.json]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

# Requests over the shop core: each plans on both catalog sizes (checked before timing).
REQUESTS = [
    "number of orders per status",
    "total amount by customer country",
    "average order amount by customer city per month",
    "total quantity by product category",
    "number of payments per method",
]
REFUSAL = "number of frobnicators per status"
CLI_REQUEST = "number of orders per status"

# Other domains' words for the filler tables (none is a word of the requests above).
AREAS = [
    "fleet", "ledger", "campaign", "sensor", "asset", "contract", "vendor", "route", "claim",
    "policy", "ticket", "course", "patient", "clinic", "vessel", "harbor", "tariff", "meter",
    "parcel", "depot", "grant", "lab", "crop", "herd", "turbine",
]  # fmt: skip
THINGS = [
    "readings", "events", "logs", "visits", "batches", "audits", "alerts", "quotes", "tasks",
    "shifts", "inspections", "bookings", "transfers", "repairs", "scans", "permits", "samples",
    "trips", "bids", "entries",
]  # fmt: skip
QUALIFIERS = ["", "daily", "raw", "archived"]
DIMENSIONS = ["region", "tier", "channel", "grade", "zone", "phase", "kind", "level", "shift_type", "priority"]
MEASURES = ["reading_value", "weight_kg", "duration_seconds", "cost_usd", "score", "volume_liters", "distance_km"]
VALUES = ["alpha", "beta", "gamma", "delta", "north", "south", "east", "west", "basic", "premium"]


def _core():
    from martsmith.context.catalog import Column, ForeignKey, Table

    def table(name, rows, columns, pk="id"):
        return Table(
            "source",
            name,
            "raw",
            name,
            source_name="shop",
            unique_id=f"source.shop.shop.{name}",
            description=f"The shop's {name.replace('_', ' ')}.",
            columns=columns,
            row_count=rows,
            primary_key=pk,
            primary_key_unique=True,
        )

    def col(name, dtype, distinct=None, values=None, nulls=0, desc=""):
        return Column(name, dtype, desc, nulls, distinct, values)

    tables = [
        table(
            "customers",
            2000,
            [
                col("id", "INTEGER", 2000),
                col("first_name", "VARCHAR", 900),
                col("country", "VARCHAR", 8, ["Canada", "France", "Germany", "Japan", "Spain", "UK", "USA", "Italy"]),
                col("city", "VARCHAR", 25, [f"City {c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXY"]),
                col("created_at", "TIMESTAMP", 2000),
            ],
        ),
        table(
            "stores",
            20,
            [col("id", "INTEGER", 20), col("store_name", "VARCHAR", 20), col("opened_on", "DATE", 20)],
        ),
        table(
            "orders",
            10000,
            [
                col("id", "INTEGER", 10000),
                col("customer_id", "INTEGER", 2000),
                col("store_id", "INTEGER", 20),
                col("status", "VARCHAR", 4, ["cancelled", "completed", "placed", "shipped"]),
                col("amount", "DECIMAL(10,2)", 5000),
                col("ordered_at", "TIMESTAMP", 10000),
            ],
        ),
        table(
            "products",
            500,
            [
                col("id", "INTEGER", 500),
                col("product_name", "VARCHAR", 500),
                col("category", "VARCHAR", 6, ["books", "games", "garden", "kitchen", "sports", "toys"]),
                col("price", "DECIMAL(10,2)", 300),
            ],
        ),
        table(
            "order_items",
            30000,
            [
                col("id", "INTEGER", 30000),
                col("order_id", "INTEGER", 10000),
                col("product_id", "INTEGER", 500),
                col("quantity", "INTEGER", 5),
                col("unit_price", "DECIMAL(10,2)", 300),
            ],
        ),
        table(
            "payments",
            11000,
            [
                col("id", "INTEGER", 11000),
                col("order_id", "INTEGER", 10000),
                col("method", "VARCHAR", 4, ["bank_transfer", "card", "gift_card", "paypal"]),
                col("paid_amount", "DECIMAL(10,2)", 5000),
                col("paid_at", "TIMESTAMP", 11000),
            ],
        ),
    ]
    fks = [
        ForeignKey("source:shop.orders", "customer_id", "source:shop.customers", "id", "declared"),
        ForeignKey("source:shop.orders", "store_id", "source:shop.stores", "id", "declared"),
        ForeignKey("source:shop.order_items", "order_id", "source:shop.orders", "id", "declared"),
        ForeignKey("source:shop.order_items", "product_id", "source:shop.products", "id", "declared"),
        ForeignKey("source:shop.payments", "order_id", "source:shop.orders", "id", "declared"),
    ]
    return tables, fks


def synthetic_catalog(n_tables: int, seed: int = 7):
    """A Catalog of `n_tables` tables: the shop core plus other domains' tables (see the module
    docstring). Deterministic for a seed."""
    from martsmith.context.catalog import Catalog, Column, ForeignKey, Table

    rng = random.Random(seed)
    tables, fks = _core()
    names = [f"{q + '_' if q else ''}{a}_{t}" for q in QUALIFIERS for a in AREAS for t in THINGS]
    if n_tables - len(tables) > len(names):
        raise SystemExit(f"at most {len(names) + len(tables)} tables")
    filler = names[: n_tables - len(tables)]
    entity = {name: name.rsplit("_", 1)[0] for name in filler}  # daily_fleet_readings -> daily_fleet
    for i, name in enumerate(filler):
        rows = rng.randint(100, 1_000_000)
        cols = [Column("id", "BIGINT", "", 0, rows), Column("recorded_at", "TIMESTAMP", "", 0, rows)]
        for d in rng.sample(DIMENSIONS, 3):
            vals = rng.sample(VALUES, rng.randint(2, 6))
            cols.append(Column(d, "VARCHAR", "", rng.randint(0, 50), len(vals), sorted(vals)))
        for m in rng.sample(MEASURES, 2):
            cols.append(Column(m, rng.choice(["DOUBLE", "DECIMAL(12,2)", "INTEGER"]), "", 0, rng.randint(10, rows)))
        label = f"source:ops.{name}"
        if i and rng.random() < 0.7:  # a key to an earlier table of another domain
            parent = filler[rng.randrange(i)]
            cols.append(Column(f"{entity[parent]}_id", "BIGINT", "", 0, rng.randint(10, rows)))
            fks.append(ForeignKey(label, f"{entity[parent]}_id", f"source:ops.{parent}", "id"))
        if rng.random() < 0.2:  # and, now and then, to the shop core
            core = rng.choice(["customers", "stores", "products"])
            key = f"{core.removesuffix('s')}_id"
            cols.append(Column(key, "INTEGER", "", 0, rng.randint(10, rows)))
            fks.append(ForeignKey(label, key, f"source:shop.{core}", "id"))
        tables.append(
            Table(
                "source",
                name,
                "ops",
                name,
                source_name="ops",
                unique_id=f"source.shop.ops.{name}",
                description=f"{name.replace('_', ' ').capitalize()}, one row per record.",
                columns=cols,
                row_count=rows,
                primary_key="id",
                primary_key_unique=True,
            )
        )
    return Catalog(tables=tables, foreign_keys=fks, ancestors={t.label: set() for t in tables})


def _plan_once(request: str, catalog) -> tuple[float, str]:
    from martsmith.errors import MartsmithError
    from martsmith.plan.offline import plan_offline

    t = time.perf_counter()
    try:
        spec = plan_offline(request, catalog)
        outcome = f"planned {spec.name}"
    except MartsmithError as exc:
        outcome = f"refused ({type(exc).__name__})"
    return time.perf_counter() - t, outcome


def _baseline_once(catalog) -> float:
    t = time.perf_counter()
    catalog.schema_for_sqlglot()
    return time.perf_counter() - t


def bench_planning(sizes: list[int], runs: int) -> dict:
    out: dict = {}
    for n in sizes:
        catalog = synthetic_catalog(n)
        columns = sum(len(t.columns) for t in catalog.tables)
        _plan_once(REQUESTS[0], catalog)  # imports and first-call caches, not what is measured
        per_request: dict = {}
        for request in [*REQUESTS, REFUSAL]:
            plan_s, base_s, outcome = [], [], ""
            for _ in range(runs):  # alternate, so that both see the same machine state
                base_s.append(_baseline_once(catalog))
                seconds, outcome = _plan_once(request, catalog)
                plan_s.append(seconds)
            per_request[request] = {
                "outcome": outcome,
                "plan_median_s": round(statistics.median(plan_s), 4),
                "baseline_median_s": round(statistics.median(base_s), 5),
                "ratio": round(statistics.median(plan_s) / statistics.median(base_s), 1),
                "all_plan_s": [round(s, 4) for s in plan_s],
            }
        worst = max(r["plan_median_s"] for r in per_request.values())
        out[str(n)] = {
            "tables": len(catalog.tables),
            "columns": columns,
            "foreign_keys": len(catalog.foreign_keys),
            "requests": per_request,
            "worst_median_s": worst,
            "target_s": 0.2 if n <= 50 else 1.0,
        }
    return out


def _cli(project: Path, request: str) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "martsmith"), "model", request, "--dry-run"], cwd=project, env=ENV, capture_output=True, text=True
    )
    return time.perf_counter() - t, proc.returncode


def bench_dry_run(runs: int) -> dict:
    from martsmith.context.cache import CACHE_FILE

    work = Path(tempfile.mkdtemp(prefix="martsmith-plan-speed-"))
    project = work / "shop"
    try:
        subprocess.run(
            [str(BIN / "martsmith"), "init", str(project), "--sample"], env=ENV, capture_output=True, check=True
        )
        cached = project / "target" / CACHE_FILE
        _cli(project, CLI_REQUEST)  # dbt's partial-parse state and the context cache, as a user's
        out: dict = {}
        for label, request in (("dry_run", CLI_REQUEST), ("refusal", REFUSAL)):
            warm, cold, codes = [], [], set()
            for _ in range(runs):
                cached.unlink(missing_ok=True)  # cold: what every command paid before the cache
                seconds, code = _cli(project, request)
                cold.append(seconds)
                codes.add(code)
                seconds, code = _cli(project, request)  # warm: the cold run left the cache
                warm.append(seconds)
                codes.add(code)
            out[label] = {
                "request": request,
                "exit_codes": sorted(codes),
                "warm_median_s": round(statistics.median(warm), 3),
                "cold_median_s": round(statistics.median(cold), 3),
                "warm_over_cold": round(statistics.median(warm) / statistics.median(cold), 2),
                "all_warm_s": [round(s, 3) for s in warm],
                "all_cold_s": [round(s, 3) for s in cold],
            }
        out["dry_run"]["target_s"] = 2.0
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def profile_planner(n: int, path: Path) -> str:
    """cProfile of every request on the n-table catalog: the plan/ functions by own time."""
    catalog = synthetic_catalog(n)
    _plan_once(REQUESTS[0], catalog)
    prof = cProfile.Profile()
    prof.enable()
    for request in [*REQUESTS, REFUSAL]:
        _plan_once(request, catalog)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats("martsmith/plan/", 25)
    stats.sort_stats("cumulative").print_stats("martsmith/plan/", 25)
    stats.sort_stats("tottime").print_stats(15)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue())
    return buf.getvalue()


def run_all(runs: int, cli_runs: int, *, cli: bool = True) -> dict:
    results: dict = {"planning": bench_planning([50, 1000], runs)}
    if cli:
        results["cli"] = bench_dry_run(cli_runs)
    return results


def report(results: dict) -> str:
    lines = []
    for r in results["planning"].values():
        lines.append(
            f"plan_offline on {r['tables']} tables ({r['columns']} columns, {r['foreign_keys']} keys): "
            f"worst median {r['worst_median_s'] * 1000:.0f} ms (target <= {r['target_s'] * 1000:.0f} ms)"
        )
        for request, x in r["requests"].items():
            lines.append(
                f"  {request!r}: {x['plan_median_s'] * 1000:.1f} ms, {x['ratio']}x one catalog pass "
                f"({x['baseline_median_s'] * 1000:.2f} ms); {x['outcome']}"
            )
    for label, x in results.get("cli", {}).items():
        lines.append(
            f"martsmith model --dry-run ({label}, {x['request']!r}): warm {x['warm_median_s']:.2f} s vs cold "
            f"{x['cold_median_s']:.2f} s -> {x['warm_over_cold']} (exit {x['exit_codes']})"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--skip-cli", action="store_true", help="only the in-process planning benchmark")
    ap.add_argument("--profile", action="store_true", help="also cProfile the planner on 1,000 tables")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "plan_speed.json")
    a = ap.parse_args()
    results = run_all(a.runs, a.cli_runs, cli=not a.skip_cli)
    print(report(results))
    if a.profile:
        print(profile_planner(1000, HERE / "results" / "plan_profile.txt"))
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
