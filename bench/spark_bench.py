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
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, alternate, summary, timed  # noqa: E402 - bench/ is not a package: by path

REQUESTS = [
    "total revenue by customer country per month",
    "number of orders per status",
    "number of payments per month with one column per method",
]


def bench(runs: int, scale: float, keep: Path | None) -> dict:
    work = keep or Path(tempfile.mkdtemp(prefix="martsmith-spark-bench-"))
    project = work / "shop"
    if not project.exists():
        timed([str(BIN / "martsmith"), "init", str(project), "--sample", "--adapter", "spark", "--scale", str(scale)])
    timed([str(BIN / "dbt"), "parse"], cwd=project)
    stamp = int(time.time())  # model names of their own, when --keep reuses a project
    ours, bare = alternate(project, REQUESTS, runs, f"bench_spark_{stamp}", say=lambda m: print(m, flush=True))
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return summary(ours, bare, scale=scale, target_ratio=1.3)


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
