"""Benchmark of `martsmith star`: the 10-model layout of the sample source, planned, checked,
built and tested in one dbt invocation, against a bare `dbt build` of the same models.

Each round takes a fresh copy of a sample project (`martsmith init --sample`), then runs, each
as a subprocess timed by wall clock:

  star  `martsmith star --from-source shop --yes` (the whole CLI: parse, catalog, plan, profile,
        render, static checks, sqlfluff, one `dbt build`, row counts)
  dbt   `dbt build --select <the same models>` on that project right after (the models and
        their tests as written, no generation)

Rounds alternate the two so that drift in the machine's load affects both alike; the report
is the median of each. Goal: star / dbt <= 1.2.

Usage: .venv/bin/python bench/star_bench.py [--scale 0.3] [--runs 3] [--json bench/results/star.json]
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

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
GOAL = 1.2


def _env() -> dict[str, str]:
    return os.environ | {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


def _timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc


def one_round(template: Path, work: Path, i: int) -> dict:
    project = work / f"round{i}"
    shutil.copytree(template, project, symlinks=True)
    star_s, proc = _timed(
        [
            str(BIN / "martsmith"),
            "star",
            "--from-source",
            "shop",
            "--yes",
            "--format",
            "json",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        project,
    )
    out = json.loads(proc.stdout)
    models = out["models"]
    dbt_s, dbt = _timed(
        [
            str(BIN / "dbt"),
            "build",
            "--select",
            *models,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--no-send-anonymous-usage-stats",
        ],
        project,
    )
    shutil.rmtree(project, ignore_errors=True)
    return {
        "star_s": round(star_s, 3),
        "dbt_s": round(dbt_s, 3),
        "models": len(models),
        "tests_passed": out["tests_passed"],
        "stages_s": out["seconds"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=str(HERE / "results" / "star.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="star_bench_") as tmp:
        work = Path(tmp)
        template = work / "shop"
        subprocess.run(
            [str(BIN / "martsmith"), "init", str(template), "--sample", "--scale", str(args.scale)],
            env=_env(),
            check=True,
            capture_output=True,
        )
        rounds = []
        for i in range(args.runs):
            rounds.append(one_round(template, work, i))
            r = rounds[-1]
            print(
                f"round {i + 1}: star {r['star_s']:.2f} s, dbt build {r['dbt_s']:.2f} s  stages {r['stages_s']}",
                flush=True,
            )
    star = statistics.median(r["star_s"] for r in rounds)
    dbt = statistics.median(r["dbt_s"] for r in rounds)
    result = {
        "benchmark": "martsmith star --from-source shop --yes vs dbt build --select <same models>",
        "scale": args.scale,
        "runs": args.runs,
        "models": rounds[0]["models"],
        "tests": rounds[0]["tests_passed"],
        "star_median_s": round(star, 3),
        "dbt_build_median_s": round(dbt, 3),
        "ratio": round(star / dbt, 3),
        "goal_ratio": GOAL,
        "met": star / dbt <= GOAL,
        "cpus": os.cpu_count(),
        "rounds": rounds,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['models']} models, {result['tests']} tests: star {star:.2f} s, dbt build {dbt:.2f} s, "
        f"ratio {star / dbt:.2f} (goal <= {GOAL}) -> {args.json}"
    )


if __name__ == "__main__":
    main()
