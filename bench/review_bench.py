"""Benchmark of `martsmith review` against a bare `dbt build --select state:modified+` of the same
change (issue 12: a review of a change touching N models costs about one build of them, at most
1.5x, with the base's data read, not rebuilt).

The project is the one `make demo` builds: `martsmith init --sample`, five generated models and
the sales star schema (4 staging models, 3 dimensions, 1 fact), committed to git as `main` and
built. The head change, left in the working tree:

  - `order_count_by_status` regenerated with another filter (`--force --no-build`),
  - `dim_customer` edited by hand (the city upper-cased), whose child `fct_order_items` is
    rebuilt with it,

so the change is 2 modified models plus 1 child, and their data tests.

Rounds alternate A and B (A B A B ...), each a subprocess timed by wall clock, so both pay
Python's start-up and dbt's import and drift in the machine's load affects both alike:

  A  `martsmith review --base main --fail-on never --format json` (the whole review: the base
     parsed from git, the head parsed, rules, sqlfluff, provenance re-rendering, the isolated
     build of the change and its children, the data diffs, the report; its schemas dropped)
  B  `dbt build --select state:modified+ --defer --state <base artifacts>` into the same kind
     of isolated target (a profile whose schema is `main__review`, unchanged parents read from
     the base's relations), the base's artifacts made once by `dbt parse` on the base commit,
     outside the timing. Its schemas are dropped between rounds, outside the timing.

One untimed run of each comes first (dbt's partial-parse state of each target folder is warm,
as on a developer's machine, and review's cache of the base's manifest is filled). Then
`--cold` rounds of A with review's cache of the base manifest cleared before each: the review a
fresh CI checkout pays (B's base artifacts are still prepared outside its timing there).
The models each side built are checked to be the same set.

Usage: .venv/bin/python bench/review_bench.py [--runs 5] [--cold 3] [--scale 1.0]
       [--json bench/results/review.json]
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
GOAL = 1.5
REQUESTS = [
    "total revenue by customer country per month",
    "number of orders per status, excluding cancelled orders",
    "top 10 products by quantity sold in 2025",
    "average order amount by customer city",
    "total quantity by product category",
]
STAR = "sales star schema: order lines as the fact, with customers, products and dates as dimensions"
REGENERATE = "number of orders per status, excluding cancelled and returned orders"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # both sides import from .pyc
    env |= {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return env | GIT_ENV


def _run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc


def make_project(work: Path, scale: float) -> Path:
    """The demo project, committed as `main` and built; the head change in the working tree."""
    project = work / "shop"
    ms = str(BIN / "martsmith")
    _run([ms, "init", str(project), "--sample", "--scale", str(scale)], work)
    for request in REQUESTS:
        _run([ms, "model", request, "--yes"], project)
    _run([ms, "star", STAR, "--yes"], project)
    _run(["git", "init", "-q", "-b", "main"], project)
    _run(["git", "add", "-A"], project)
    _run(["git", "commit", "-qm", "base: generated models and the sales star"], project)
    # B's base state: the base commit's manifest, made once, as CI keeps production's artifacts.
    _run([str(BIN / "dbt"), "parse", "--target-path", str(work / "base-state")], project)
    # The head change: a regenerated model with another filter, and a hand edit with a child.
    _run([ms, "model", REGENERATE, "--name", "order_count_by_status", "--force", "--yes", "--no-build"], project)
    dim = project / "models/marts/sales/dim_customer.sql"
    text = dim.read_text()
    assert "        customers.city,\n" in text, "the star's dim_customer changed shape: update the bench's edit"
    dim.write_text(text.replace("        customers.city,\n", "        upper(customers.city) as city,\n"))
    # B's isolated target: the same profile with the review's schema, the DuckDB path absolute.
    import yaml

    profiles = yaml.safe_load((project / "profiles.yml").read_text())
    for profile in profiles.values():
        for target in profile["outputs"].values():
            target["schema"] = target.get("schema", "main") + "__review"
            target["path"] = str((project / target["path"]).resolve())
    (work / "b-profile").mkdir()
    (work / "b-profile" / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False))
    return project


def drop_review_schemas(project: Path) -> None:
    import duckdb

    con = duckdb.connect(str(project / "shop.duckdb"))
    try:
        for (schema,) in con.execute("select schema_name from information_schema.schemata").fetchall():
            if schema.startswith("main__review"):
                con.execute(f'drop schema if exists "{schema}" cascade')
    finally:
        con.close()


def review_cmd() -> list[str]:
    return [str(BIN / "martsmith"), "review", "--base", "main", "--fail-on", "never", "--format", "json"]


def dbt_cmd(work: Path) -> list[str]:
    return [
        str(BIN / "dbt"),
        "build",
        "--select",
        "state:modified+",
        "--defer",
        "--state",
        str(work / "base-state"),
        "--profiles-dir",
        str(work / "b-profile"),
        "--target-path",
        str(work / "b-target"),
    ]


def run_review(project: Path) -> tuple[float, dict]:
    seconds, proc = _run(review_cmd(), project)
    return seconds, json.loads(proc.stdout)


def run_dbt(project: Path, work: Path) -> tuple[float, list[str]]:
    seconds, _ = _run(dbt_cmd(work), project)
    results = json.loads((work / "b-target" / "run_results.json").read_text())
    models = sorted(r["unique_id"].split(".")[-1] for r in results["results"] if r["unique_id"].startswith("model."))
    drop_review_schemas(project)
    return seconds, models


def clear_base_cache(project: Path) -> None:
    shutil.rmtree(project / "target" / "martsmith_review" / "base", ignore_errors=True)


def run_all(runs: int = 5, cold: int = 3, scale: float = 1.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="review_bench_") as tmp:
        work = Path(tmp)
        project = make_project(work, scale)
        _, first = run_review(project)  # warm-up: partial parse of the review's target, base cache
        _, dbt_models = run_dbt(project, work)  # warm-up: partial parse of B's target
        review_models = sorted(first["build"]["models_built"])
        if review_models != dbt_models:
            raise SystemExit(f"not the same nodes: review built {review_models}, dbt built {dbt_models}")
        warm = _pairs(runs, lambda: run_review(project), lambda: run_dbt(project, work)[0])

        def new_base() -> tuple[float, dict]:
            clear_base_cache(project)
            return run_review(project)

        uncached = _pairs(cold, new_base, None)

        def fresh_review() -> tuple[float, dict]:
            shutil.rmtree(project / "target", ignore_errors=True)
            return run_review(project)

        def fresh_dbt() -> float:
            shutil.rmtree(work / "b-target", ignore_errors=True)
            return run_dbt(project, work)[0]

        fresh = _pairs(cold, fresh_review, fresh_dbt)
    return {
        "scale": scale,
        "models_built": review_models,
        "tests_run": sum(first["build"][k] for k in ("tests_passed", "tests_warned"))
        + len(first["build"]["tests_failed"]),
        "target_ratio": GOAL,
        "warm": warm,
        "new_base": uncached | {"ratio": uncached["review_s"] / warm["dbt_s"]},
        "fresh": fresh,
    }


def _pairs(n: int, review, dbt) -> dict:
    """n rounds of A (review) then B (dbt, when given): their medians and the ratio."""
    ours: list[float] = []
    bare: list[float] = []
    stages: list[dict] = []
    for _ in range(n):
        seconds, doc = review()
        ours.append(seconds)
        stages.append(doc.get("seconds") or {})
        if dbt is not None:
            bare.append(dbt())
    out = {"runs": n, "review_s": statistics.median(ours), "all_review_s": ours, "stages_s": _median_stages(stages)}
    if bare:
        out |= {
            "dbt_s": statistics.median(bare),
            "all_dbt_s": bare,
            "ratio": statistics.median(ours) / statistics.median(bare),
        }
    return out


def _median_stages(stages: list[dict]) -> dict[str, float]:
    keys = sorted({k for s in stages for k in s})
    return {k: round(statistics.median(s.get(k, 0.0) for s in stages), 2) for k in keys}


def report(r: dict) -> str:
    w, n, f = r["warm"], r["new_base"], r["fresh"]
    verdict = "met" if w["ratio"] <= r["target_ratio"] else "NOT met"
    return "\n".join(
        [
            f"change: {len(r['models_built'])} models ({', '.join(r['models_built'])}), {r['tests_run']} tests",
            f"martsmith review: {w['review_s']:.2f} s vs dbt build --select state:modified+ {w['dbt_s']:.2f} s"
            f" -> ratio {w['ratio']:.2f} (target <= {r['target_ratio']}: {verdict}; medians of {w['runs']} pairs)",
            f"  review stages (median s): {w['stages_s']}",
            f"  base not cached (a new base commit): review {n['review_s']:.2f} s -> ratio {n['ratio']:.2f};"
            f" stages {n['stages_s']}",
            f"  fresh checkout (no target/ for either): review {f['review_s']:.2f} s vs dbt {f['dbt_s']:.2f} s"
            f" -> ratio {f['ratio']:.2f}; stages {f['stages_s']}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="A/B pairs (default 5)")
    parser.add_argument("--cold", type=int, default=3, help="reviews with the base-manifest cache cleared")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run_all(args.runs, args.cold, args.scale)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
