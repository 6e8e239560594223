"""Benchmark of the single-pass profiler on 10 million order items.

Ways to compute the profile of `raw.order_items` (sample data at scale 1000), each timed in a
fresh process with DuckDB at `memory_limit` and `threads`, modes alternating, medians reported:

  scan         `select count(col1), count(col2), ... from order_items`: the floor asked for;
               DuckDB answers it from row-group metadata, without reading data
  read         `select sum(hash(col1)), ... from order_items`: a plain scan reading every value
  single       `profile_relation` as shipped: above 1M rows HyperLogLog distinct counts,
               quantiles on a deterministic hash sample, keys by bitmap or hash-slice check
  naive        the same statistics by the same methods (the same SQL expressions), one query
               per column per statistic: the fair baseline
  single_exact `profile_relation` with the exact plan forced (count(distinct), quantile_cont
               on all rows, keys verified by count(distinct)): what exactness costs
  naive_exact  the exact plan, one query per column per statistic (not a like-for-like
               comparison with `single`: different methods)

Targets: naive / single >= 5, single / scan <= 3 (also reported against `read`, the
meaningful floor). Peak memory: the child process' VmHWM (peak resident set) minus its VmHWM
before the timed work, and DuckDB's own `peak_buffer_memory` (query profiling, max over the
queries) from one extra, untimed run per mode.

Usage: .venv/bin/python bench/profile_bench.py [--scale 1000] [--runs 3] [--memory-limit 2GB]
       [--threads 2] [--json bench/results/profile.json] [--db existing.duckdb]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("scan", "read", "single", "naive", "single_exact", "naive_exact")
EXACT = {"exact_distinct_limit": 10**12, "exact_quantile_limit": 10**12}


def vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def connect(path: str, memory_limit: str, threads: int):
    import duckdb

    con = duckdb.connect(path, config={"memory_limit": memory_limit, "threads": threads})
    con.execute("set enable_progress_bar = false")
    return con


def generate(path: str, scale: float, memory_limit: str, threads: int) -> dict:
    con = connect(path, "8GB", threads)  # loading is not what is measured
    try:
        from martsmith.scaffold.sample import load_sample
    except ImportError:  # the sample module is missing: an equivalent order_items table
        con.execute("create schema if not exists raw")
        n = int(10_000 * scale)
        con.execute(f"""
            create table raw.order_items as select
                i::integer + 1 as id, (i // 3)::integer + 1 as order_id,
                (hash(i, 'p') % 500)::integer + 1 as product_id,
                (1 + hash(i, 'q') % 3)::integer * (case when i % 743 = 101 then -1 else 1 end) as quantity,
                (2.99 + (hash(i, 'u') % 140))::decimal(10, 2) as unit_price,
                ([0, 0, 0.05, 0.1, 0.15, 0.2][1 + hash(i, 'd') % 6])::decimal(4, 2) as discount
            from range({n}) r(i)""")
        counts = {"order_items": n}
    else:
        counts = load_sample(con, scale=scale)
    con.close()
    return counts


class _Wh:
    """The slice of Warehouse the profiler uses, on a plain connection."""

    def __init__(self, con) -> None:
        self.con = con
        self.queries = 0

    def query(self, sql: str, params=None) -> list[tuple]:
        self.queries += 1
        return self.con.execute(sql, params or []).fetchall()


def _table(con):
    from martsmith.context.catalog import Column, Table

    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'order_items' order by ordinal_position"
    ).fetchall()
    # As `martsmith profile` sees it: columns known, row count and distinct counts not yet.
    return Table(
        "source", "order_items", "raw", "order_items", source_name="shop", columns=[Column(n, t) for n, t in cols]
    )


def run_mode(mode: str, path: str, memory_limit: str, threads: int, *, duckdb_peak: bool = False) -> dict:
    from martsmith.profiling import profiler

    con = connect(path, memory_limit, threads)
    wh = _Wh(con)
    table = _table(con)
    result = None
    peaks: list[int] = []
    if duckdb_peak:  # untimed run: DuckDB's peak buffer memory of every query
        con.execute("pragma enable_profiling = 'no_output'")
        query = wh.query

        def profiled(sql: str, params=None) -> list[tuple]:
            rows = query(sql, params)
            info = json.loads(con.get_profiling_information(format="json"))
            peaks.append(info.get("system", {}).get("peak_buffer_memory", 0))  # none for metadata answers
            return rows

        wh.query = profiled  # type: ignore[method-assign]
    if mode.startswith("naive"):
        profiler.run_query = profiler.one_query_per_statistic
    query_seconds: list[float] = []
    if mode.startswith("single"):
        run_query = profiler.run_query

        def timed(wh, query, relation, dialect):
            t = time.perf_counter()
            row = run_query(wh, query, relation, dialect)
            query_seconds.append(round(time.perf_counter() - t, 3))
            return row

        profiler.run_query = timed
    options = EXACT if mode.endswith("exact") else {}
    base = vm_hwm_kb()
    t = time.perf_counter()
    if mode in ("scan", "read"):
        fn = "count({})" if mode == "scan" else "sum(hash({}))"
        exprs = ", ".join(fn.format(f'"{c.name}"') for c in table.columns)
        wh.query(f"select {exprs} from raw.order_items")
    else:
        result = profiler.profile_relation(wh, table, **options)
    seconds = time.perf_counter() - t
    out = {
        "mode": mode,
        "seconds": seconds,
        "queries": wh.queries,
        "peak_mb": (vm_hwm_kb() - base) / 1024,
        "process_peak_mb": vm_hwm_kb() / 1024,
    }
    if peaks:
        out["duckdb_peak_mb"] = max(peaks) / 2**20
    if query_seconds:
        out["query_seconds"] = query_seconds
    if result is not None:
        doc = result.as_dict()
        out["rows"] = result.row_count
        out["key_candidates"] = result.key_candidates
        out["unverified_key_candidates"] = result.unverified_key_candidates
        out["approximate"] = [c.name for c in result.columns if c.distinct_approximate]
        out["quantiles_approximate"] = [c.name for c in result.columns if c.quantiles_approximate]
        out["profile_sha1"] = hashlib.sha1(json.dumps(doc, default=str, sort_keys=True).encode()).hexdigest()
        out["profile"] = {
            c["name"]: {k: c[k] for k in ("distinct_count", "mean", "stddev", "quantiles")} for c in doc["columns"]
        }
    con.close()
    return out


def child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1000.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "profile.json")
    ap.add_argument("--db", help="an existing database with raw.order_items: skip generating one")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--duckdb-peak", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        what, path = a.child[0], a.child[1]
        if what == "generate":
            print(json.dumps(generate(path, a.scale, a.memory_limit, a.threads)))
        else:
            print(json.dumps(run_mode(what, path, a.memory_limit, a.threads, duckdb_peak=a.duckdb_peak), default=str))
        return

    work = Path(tempfile.mkdtemp(prefix="martsmith-profile-bench-"))
    try:
        path = a.db or str(work / "shop.duckdb")
        common = ["--scale", str(a.scale), "--memory-limit", a.memory_limit, "--threads", str(a.threads)]
        t = time.perf_counter()
        if a.db:
            import duckdb

            with duckdb.connect(a.db, read_only=True) as con:
                counts = {"order_items": con.execute("select count(*) from raw.order_items").fetchone()[0]}
        else:
            counts = child(["generate", path, *common])
            print(f"generated {counts.get('order_items', 0):,} order items in {time.perf_counter() - t:.1f} s")
        runs: dict[str, list[dict]] = {m: [] for m in MODES}
        for i in range(a.runs):  # alternate, so that every mode sees the same machine state
            for mode in MODES:
                r = child([mode, path, *common])
                runs[mode].append(r)
                print(
                    f"  run {i + 1} {mode:<12} {r['seconds']:7.3f} s  {r['queries']:3d} queries  peak +{r['peak_mb']:.0f} MB"
                )
        duck = {}
        for mode in MODES[2:]:
            duck[mode] = child([mode, path, *common, "--duckdb-peak"])["duckdb_peak_mb"]
            print(f"  DuckDB peak buffer memory {mode:<12} {duck[mode]:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {m: statistics.median(r["seconds"] for r in runs[m]) for m in MODES}
    peak = {m: max(r["peak_mb"] for r in runs[m]) for m in MODES}
    single = runs["single"][0]
    doc = {
        "table": "raw.order_items",
        "rows": counts.get("order_items"),
        "scale": a.scale,
        "duckdb": {"memory_limit": a.memory_limit, "threads": a.threads},
        "runs": a.runs,
        "median_seconds": {m: round(v, 3) for m, v in med.items()},
        "all_seconds": {m: [round(r["seconds"], 3) for r in runs[m]] for m in MODES},
        "queries": {m: runs[m][0]["queries"] for m in MODES},
        "peak_rss_mb": {m: round(v, 1) for m, v in peak.items()},
        "duckdb_peak_buffer_mb": {m: round(v, 1) for m, v in duck.items()},
        "ratios": {
            "naive_over_single": round(med["naive"] / med["single"], 2),
            "single_over_scan": round(med["single"] / med["scan"], 2),
            "single_over_read": round(med["single"] / med["read"], 2),
            "naive_exact_over_single (different methods)": round(med["naive_exact"] / med["single"], 2),
            "naive_exact_over_single_exact": round(med["naive_exact"] / med["single_exact"], 2),
            "single_exact_over_single": round(med["single_exact"] / med["single"], 2),
        },
        "targets": {"naive_over_single": ">= 5", "single_over_scan": "<= 3"},
        "single_identical_across_runs": len({r["profile_sha1"] for r in runs["single"]}) == 1,
        "naive_same_profile_as_single": {r["profile_sha1"] for r in runs["naive"]} == {single["profile_sha1"]},
        "key_candidates": single.get("key_candidates"),
        "unverified_key_candidates": single.get("unverified_key_candidates"),
        "key_candidates_exact": runs["single_exact"][0].get("key_candidates"),
        "approximate_columns": single.get("approximate"),
        "quantiles_approximate_columns": single.get("quantiles_approximate"),
        "single_query_seconds": [r.get("query_seconds") for r in runs["single"]],
        "single_exact_query_seconds": runs["single_exact"][0].get("query_seconds"),
        "approximate_vs_exact": {
            name: {"approximate": stats, "exact": runs["single_exact"][0]["profile"][name]}
            for name, stats in single["profile"].items()
        },
    }
    print(json.dumps(doc, indent=2))
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
