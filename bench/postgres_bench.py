"""Benchmarks on PostgreSQL: a throwaway cluster (scripts/postgres.sh, the one the tests use).

1. profile  The single-pass profiler (`profile_relation` as shipped, PostgresDialect) against
            one query per statistic (the same SQL expressions, each its own query, as
            profiler.one_query_per_statistic) on a 10 M-row `raw.order_items`, and a floor: one `count(col)` per
            column in one query (Postgres reads every row for it). Modes alternate, each in a
            fresh process; medians and query counts are reported.
2. model    `martsmith model "<request>" --yes` on `martsmith init --sample --adapter postgres`
            against a bare `dbt build --select <that model>` subprocess of the same model on
            the same target, alternating A B A B; medians, target <= 1.3x.

Usage: .venv/bin/python bench/postgres_bench.py [profile|model|all] [--rows 10000000] [--runs 3]
       [--pairs 5] [--scale 1.0] [--no-bytecode-cache] [--json bench/results/postgres.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPT = REPO / "scripts" / "postgres.sh"
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}
PROFILE_MODES = ("scan", "single", "naive")
REQUESTS = [
    "total revenue by customer country per month",
    "number of orders per status",
    "average order amount by customer city",
]


class Server:
    """A cluster in a temp directory on a free port, started and stopped by scripts/postgres.sh."""

    def __init__(self) -> None:
        subprocess.run([str(SCRIPT), "install"], check=True)
        base = Path(tempfile.mkdtemp(prefix="martsmith-pg-bench-"))
        os.chmod(base, 0o755)  # the cluster's owner (`postgres` when we are root) must reach it
        self.dir = base / "pg"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        subprocess.run([str(SCRIPT), "start", str(self.dir), str(self.port)], check=True, capture_output=True)

    def env(self, db: str) -> dict[str, str]:
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": "postgres", "PGDATABASE": db}

    def sql(self, statement: str, db: str = "postgres") -> None:
        import psycopg2  # only the bench's parent process talks to the server directly

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(statement)
        finally:
            con.close()

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.dir)], capture_output=True)
        shutil.rmtree(self.dir.parent, ignore_errors=True)


# -- 1. the profiler on 10 M rows -------------------------------------------------------------

# The DuckDB bench's stand-in for the sample's order items (bench/profile_bench.py), in
# Postgres: an id, a foreign key of 3 lines per order, 500 products, small quantities with a
# few negatives, prices and a discount of six values.
ORDER_ITEMS = """
create schema if not exists raw;
drop table if exists raw.order_items;
create table raw.order_items as
select
    (i + 1)::integer as id,
    (i / 3 + 1)::integer as order_id,
    (abs(hashtext(i || 'p')) % 500 + 1)::integer as product_id,
    ((1 + abs(hashtext(i || 'q')) % 3) * (case when i % 743 = 101 then -1 else 1 end))::integer as quantity,
    (2.99 + abs(hashtext(i || 'u')) % 140)::decimal(10, 2) as unit_price,
    ((array[0, 0, 0.05, 0.1, 0.15, 0.2])[1 + abs(hashtext(i || 'd')) % 6])::decimal(4, 2) as discount
from generate_series(0, {n} - 1) as g(i);
analyze raw.order_items;
"""


class _Counted:
    """The Warehouse the profiler gets, with its queries counted."""

    def __init__(self, wh) -> None:
        self.wh = wh
        self.dialect = wh.dialect
        self.queries = 0

    def query_native(self, sql: str, params=None) -> list[tuple]:
        self.queries += 1
        return self.wh.query_native(sql, params)

    def columns(self, schemas=None):
        return self.wh.columns(schemas)


def one_query_per_statistic(wh, query, relation: str, dialect) -> tuple:
    """profiler.one_query_per_statistic, with Postgres's histogram run as what it is: a scalar
    subquery over the relation. Selected `from` the relation on its own (no aggregate beside
    it) it would come back once per row: 10 M copies of the histogram."""
    out = []
    for s in query.stats:
        if "__relation__" in s.sql:
            sql = "select " + s.sql.replace("__relation__", relation)
        else:
            sql = dialect.select([s.sql], relation, s.where)
        out.append(wh.query_native(sql)[0][0])
    return tuple(out)


def _project(port: int, db: str):
    from martsmith.context.project import Project

    target = {"type": "postgres", "host": "127.0.0.1", "port": port, "user": "postgres", "password": "", "dbname": db}
    target |= {"schema": "public", "threads": 1}
    return Project(
        root=Path.cwd(), name="b", profile_name="b", profiles_dir=Path.cwd(), target_name="dev", target=target
    )


def run_profile_mode(mode: str, port: int, db: str) -> dict:
    """One timed run of `mode` in this (fresh) process."""
    import hashlib

    from martsmith.context.catalog import Column, Table
    from martsmith.context.warehouse import Warehouse
    from martsmith.profiling import profiler

    with Warehouse(_project(port, db)) as raw_wh:
        wh = _Counted(raw_wh)
        cols = raw_wh.columns(["raw"])[("raw", "order_items")]
        wh.queries = 0
        table = Table("source", "order_items", "raw", "order_items", columns=[Column(n, t) for n, t in cols])
        if mode == "naive":
            profiler.run_query = one_query_per_statistic
        t = time.perf_counter()
        result = None
        if mode == "scan":
            wh.query_native("select " + ", ".join(f'count("{n}")' for n, _ in cols) + " from raw.order_items")
        else:
            result = profiler.profile_relation(wh, table)  # type: ignore[arg-type]
        seconds = time.perf_counter() - t
    out: dict = {"mode": mode, "seconds": seconds, "queries": wh.queries}
    if result is not None:
        doc = json.dumps(result.as_dict(), default=str, sort_keys=True)
        out |= {"rows": result.row_count, "key_candidates": result.key_candidates}
        out["profile_sha1"] = hashlib.sha1(doc.encode()).hexdigest()
        out["profile"] = json.loads(doc)
    return out


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _differences(a, b, path: str = "", rel: float = 1e-9) -> list[str]:
    """Where two profiles differ: exactly for everything but floats, which may differ in the
    last digits (Postgres sums a parallel plan's partial aggregates in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in sorted(set(a) | set(b), key=str) for d in _differences(a.get(k), b.get(k), f"{path}.{k}", rel)
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]", rel)]
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= rel * max(abs(a), abs(b)) else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def bench_profile(server: Server, rows: int, runs: int) -> dict:
    db = "profile"
    server.sql(f"create database {db}")
    t = time.perf_counter()
    server.sql(ORDER_ITEMS.format(n=rows), db)
    print(f"loaded {rows:,} order items into Postgres in {time.perf_counter() - t:.1f} s", flush=True)
    runs_of: dict[str, list[dict]] = {m: [] for m in PROFILE_MODES}
    for i in range(runs):  # alternate, so that every mode sees the same machine state
        for mode in PROFILE_MODES:
            r = _child([mode, str(server.port), db])
            runs_of[mode].append(r)
            print(f"  run {i + 1} {mode:<7} {r['seconds']:8.2f} s  {r['queries']:3d} queries", flush=True)
    med = {m: statistics.median(r["seconds"] for r in runs_of[m]) for m in PROFILE_MODES}
    single = runs_of["single"][0]
    return {
        "table": "raw.order_items",
        "rows": single["rows"],
        "runs": runs,
        "median_seconds": {m: round(v, 2) for m, v in med.items()},
        "all_seconds": {m: [round(r["seconds"], 2) for r in runs_of[m]] for m in PROFILE_MODES},
        "queries": {m: runs_of[m][0]["queries"] for m in PROFILE_MODES},
        "ratios": {
            "naive_over_single": round(med["naive"] / med["single"], 2),
            "single_over_scan": round(med["single"] / med["scan"], 2),
        },
        "single_identical_across_runs": len({r["profile_sha1"] for r in runs_of["single"]}) == 1,
        "naive_differs_from_single": [
            where for r in runs_of["naive"] for where in _differences(single["profile"], r["profile"])
        ],
        "key_candidates": single["key_candidates"],
    }


# -- 2. `martsmith model` against a bare dbt build ---------------------------------------------


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def bench_model(server: Server, pairs: int, scale: float, *, bytecode_cache: bool = True) -> dict:
    """With `bytecode_cache` (Python's default), both commands run with a warm .pyc cache in a
    temp folder (PYTHONPYCACHEPREFIX), one untimed pair first: a machine that sets
    PYTHONDONTWRITEBYTECODE recompiles every module of dbt, martsmith and sqlglot per process,
    which costs martsmith (more modules) more than dbt."""
    db = "shop"
    server.sql(f"create database {db}")
    env = {**ENV, **server.env(db)}
    work = Path(tempfile.mkdtemp(prefix="martsmith-pg-model-bench-"))
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    try:
        project = work / "shop"
        init = [
            str(BIN / "martsmith"),
            "init",
            str(project),
            "--sample",
            "--adapter",
            "postgres",
            "--scale",
            str(scale),
        ]
        _timed(init, work, env)
        _timed([str(BIN / "dbt"), "parse"], project, env)  # partial-parse state, as a user's project has it
        if bytecode_cache:  # the untimed pair that fills the cache
            _timed([str(BIN / "martsmith"), "model", REQUESTS[0], "--name", "warm_up", "--yes"], project, env)
            _timed([str(BIN / "dbt"), "build", "--select", "warm_up"], project, env)
        ours, bare = [], []
        for i in range(pairs):
            request, name = REQUESTS[i % len(REQUESTS)], f"bench_model_{i}"
            ours.append(_timed([str(BIN / "martsmith"), "model", request, "--name", name, "--yes"], project, env))
            bare.append(_timed([str(BIN / "dbt"), "build", "--select", name], project, env))
            print(f"  pair {i + 1}: martsmith model {ours[-1]:.2f} s, dbt build {bare[-1]:.2f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m_ours, m_bare = statistics.median(ours), statistics.median(bare)
    return {
        "scale": scale,
        "pairs": pairs,
        "bytecode_cache": bytecode_cache,
        "martsmith_model_s": round(m_ours, 3),
        "dbt_build_subprocess_s": round(m_bare, 3),
        "ratio": round(m_ours / m_bare, 3),
        "target_ratio": 1.3,
        "all_martsmith_s": [round(x, 3) for x in ours],
        "all_dbt_s": [round(x, 3) for x in bare],
    }


def run_all(what: str, rows: int, runs: int, pairs: int, scale: float, *, bytecode_cache: bool = True) -> dict:
    server = Server()
    try:
        out = {}
        if what in ("model", "all"):
            out["model"] = bench_model(server, pairs, scale, bytecode_cache=bytecode_cache)
        if what in ("profile", "all"):
            out["profile"] = bench_profile(server, rows, runs)
        return out
    finally:
        server.stop()


def report(results: dict) -> str:
    lines = []
    if "profile" in results:
        p = results["profile"]
        med, q = p["median_seconds"], p["queries"]
        lines.append(
            f"postgres profile of {p['rows']:,} rows: single pass {med['single']:.1f} s ({q['single']} queries), "
            f"one query per statistic {med['naive']:.1f} s ({q['naive']} queries) -> "
            f"{p['ratios']['naive_over_single']:.2f}x; scan floor {med['scan']:.1f} s"
        )
    if "model" in results:
        m = results["model"]
        lines.append(
            f"postgres martsmith model: {m['martsmith_model_s']:.2f} s vs bare dbt build subprocess "
            f"{m['dbt_build_subprocess_s']:.2f} s -> ratio {m['ratio']:.2f} (target <= 1.3)"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=("profile", "model", "all"), default="all")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "postgres.json")
    ap.add_argument("--no-bytecode-cache", action="store_true", help="model: keep PYTHONDONTWRITEBYTECODE as set")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_profile_mode(a.child[0], int(a.child[1]), a.child[2]), default=str))
        return
    results = run_all(a.what, a.rows, a.runs, a.pairs, a.scale, bytecode_cache=not a.no_bytecode_cache)
    print(json.dumps(results, indent=2))
    print(report(results))
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
