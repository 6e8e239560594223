"""Benchmarks, measured as ratios against a baseline run in the same session.

1. `martsmith --help` wall time (target: under 0.5 s), against `python -c pass` as the floor.
2. `martsmith model` end to end (plan, lint, dbt build and tests of the new model) on the sample
   project, against a bare `dbt build --select <that model>` subprocess on the same project
   (target: at most 1.2x). Runs alternate so that both see the same machine state.
3. Planning speed (bench/plan_speed.py): the offline planner on synthetic 50- and 1,000-table
   catalogs (targets: <= 0.2 s, <= 1 s), and `model --dry-run` on a warm project (<= 2 s) against
   the same command cold.
4. `martsmith review` (bench/review_bench.py): a review of a change to 2 models and a child on
   the demo project, against a bare `dbt build --select state:modified+ --defer --state` of the
   same change into the same kind of isolated schema (target: at most 1.5x), alternating.
5. With --postgres (bench/postgres_bench.py, a throwaway cluster from scripts/postgres.sh): the
   single-pass profile of 10 M rows against one query per statistic, and `martsmith model` on
   PostgreSQL against a bare `dbt build --select <model>` (target: at most 1.3x).

Usage: .venv/bin/python bench/run.py [--runs 5] [--scale 1.0] [--skip-plan-speed] [--skip-review] [--postgres]
       [--json bench/results/latest.json]
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
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
REQUESTS = [
    "total revenue by customer country per month",
    "number of orders per status",
    "average order amount by customer city",
]


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def bench_help(runs: int) -> dict:
    floor = [timed([sys.executable, "-c", "pass"]) for _ in range(runs)]
    helps = [timed([str(BIN / "martsmith"), "--help"]) for _ in range(runs)]
    return {
        "python_floor_s": statistics.median(floor),
        "martsmith_help_s": statistics.median(helps),
        "target_s": 0.5,
    }


def alternate(project: Path, requests: list[str], runs: int, prefix: str, say=None) -> tuple[list[float], list[float]]:
    """Alternating rounds of `martsmith model "<request>" --name <prefix>_i --yes` and a bare
    `dbt build --select <prefix>_i` on `project`, both subprocesses: their times."""
    ours, bare = [], []
    for i in range(runs):
        name = f"{prefix}_{i}"
        ours.append(
            timed([str(BIN / "martsmith"), "model", requests[i % len(requests)], "--name", name, "--yes"], cwd=project)
        )
        bare.append(timed([str(BIN / "dbt"), "build", "--select", name], cwd=project))
        if say:
            say(f"  round {i + 1}: martsmith {ours[-1]:.1f} s, dbt build {bare[-1]:.1f} s")
    return ours, bare


def summary(ours: list[float], bare: list[float], **extra) -> dict:
    m_ours, m_bare = statistics.median(ours), statistics.median(bare)
    return {
        **extra,
        "runs": len(ours),
        "martsmith_model_s": m_ours,
        "dbt_build_subprocess_s": m_bare,
        "ratio": m_ours / m_bare,
        "all_martsmith_s": ours,
        "all_dbt_s": bare,
    }


def bench_model(runs: int, scale: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="martsmith-bench-"))
    project = work / "shop"
    timed([str(BIN / "martsmith"), "init", str(project), "--sample", "--scale", str(scale)])
    # Warm dbt's partial-parse state once, as a user's project would have it.
    timed([str(BIN / "dbt"), "parse"], cwd=project)
    ours, bare = alternate(project, REQUESTS, runs, "bench_model")
    shutil.rmtree(work, ignore_errors=True)
    return summary(ours, bare, scale=scale, target_ratio=1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-plan-speed", action="store_true", help="leave out bench/plan_speed.py")
    parser.add_argument("--skip-review", action="store_true", help="leave out bench/review_bench.py")
    parser.add_argument("--postgres", action="store_true", help="also bench/postgres_bench.py (10 M rows: minutes)")
    args = parser.parse_args()
    results = {"help": bench_help(args.runs), "model": bench_model(args.runs, args.scale)}
    # bench/ is not a package: its scripts import each other by path.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if not args.skip_plan_speed:
        import plan_speed

        results["plan_speed"] = plan_speed.run_all(max(args.runs, 7), args.runs)
    if not args.skip_review:
        import review_bench

        results["review"] = review_bench.run_all(args.runs, max(2, args.runs // 2), args.scale)
    if args.postgres:
        import postgres_bench

        results["postgres"] = postgres_bench.run_all("all", 10_000_000, 3, max(args.runs, 5), args.scale)
    h, m = results["help"], results["model"]
    print(f"martsmith --help: {h['martsmith_help_s']:.3f} s (python floor {h['python_floor_s']:.3f} s; target < 0.5 s)")
    print(
        f"martsmith model: {m['martsmith_model_s']:.2f} s vs bare dbt build subprocess "
        f"{m['dbt_build_subprocess_s']:.2f} s -> ratio {m['ratio']:.2f} (target <= 1.2)"
    )
    if "plan_speed" in results:
        print(plan_speed.report(results["plan_speed"]))
    if "review" in results:
        print(review_bench.report(results["review"]))
    if "postgres" in results:
        print(postgres_bench.report(results["postgres"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
