"""`martsmith model` on Apache Spark against a bare `dbt build --select` of the same model on the
same target (issue target: at most 1.3x).

The sample shop in a local Spark project (`martsmith init --adapter spark`, dbt-spark's
`session` method: Spark runs inside each process, so both commands pay one JVM start), dbt's
partial-parse state warm, then alternating rounds of

  A. martsmith model "<request>" --name m_i --yes   (the whole CLI: catalog, plan, checks, test
     inference on a preview, sqlfluff, dbt build + tests)
  B. dbt build --select m_i                         (the same model, rebuilt, with its tests)

each a subprocess, so both start Python, dbt and Spark from nothing. Needs Java 17 and
dbt-spark[session] (both in `make install` + scripts/spark.sh).

Usage: .venv/bin/python bench/spark_bench.py [--runs 5] [--scale 1.0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
REQUESTS = [
    "total revenue by customer country per month",
    "number of orders per status",
    "number of payments per month with one column per method",
]


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def bench(runs: int, scale: float, keep: Path | None) -> dict:
    work = keep or Path(tempfile.mkdtemp(prefix="martsmith-spark-bench-"))
    project = work / "shop"
    if not project.exists():
        timed([str(BIN / "martsmith"), "init", str(project), "--sample", "--adapter", "spark", "--scale", str(scale)])
    timed([str(BIN / "dbt"), "parse"], cwd=project)
    ours, bare = [], []
    stamp = int(time.time())  # model names of their own, when --keep reuses a project
    for i in range(runs):
        request = REQUESTS[i % len(REQUESTS)]
        name = f"bench_spark_{stamp}_{i}"
        ours.append(timed([str(BIN / "martsmith"), "model", request, "--name", name, "--yes"], cwd=project))
        bare.append(timed([str(BIN / "dbt"), "build", "--select", name], cwd=project))
        print(f"  round {i + 1}: martsmith {ours[-1]:.1f} s, dbt build {bare[-1]:.1f} s", flush=True)
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    m_ours, m_bare = statistics.median(ours), statistics.median(bare)
    return {
        "scale": scale,
        "runs": runs,
        "martsmith_model_s": m_ours,
        "dbt_build_subprocess_s": m_bare,
        "ratio": m_ours / m_bare,
        "target_ratio": 1.3,
        "all_martsmith_s": ours,
        "all_dbt_s": bare,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, default=None, help="reuse / keep the project in this folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = bench(args.runs, args.scale, args.keep)
    print(
        f"martsmith model on Spark: {result['martsmith_model_s']:.1f} s vs bare dbt build "
        f"{result['dbt_build_subprocess_s']:.1f} s -> ratio {result['ratio']:.2f} (target <= 1.3)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
