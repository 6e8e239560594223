"""`martsmith model` of two commits side by side, each against a bare `dbt build --select`.

A change to the model path is judged by the ratio it gets against dbt in the same session as
the code before it. This runs both: a git worktree of `--base` (its `generator/` first on
PYTHONPATH, the same venv otherwise) and the working tree, each on its own copy of the sample
project (`martsmith init --sample [--adapter A]`: a run's kept parse must not be seen by the
other), in rounds of base-model, base-dbt, head-model, head-dbt. Medians and ratios.

Usage: .venv/bin/python bench/model_ab.py --base REF [--adapter duckdb|spark] [--runs 6]
       [--json FILE]   (postgres: bench/postgres_bench.py, which starts its own server)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, ENV, REQUESTS  # noqa: E402 - bench/ is not a package: by path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare with (e.g. HEAD~3)")
    parser.add_argument("--adapter", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="martsmith-model-ab-"))
    base_tree = work / "base"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(base_tree), args.base], check=True)
    envs = {"base": {**ENV, "PYTHONPATH": str(base_tree / "generator")}, "head": dict(ENV)}
    times: dict[str, list[float]] = {}
    try:
        projects = {}
        for side in envs:
            projects[side] = work / side / "shop"
            init = [str(BIN / "martsmith"), "init", str(projects[side]), "--sample", "--adapter", args.adapter]
            subprocess.run(init, env=envs[side], check=True, capture_output=True)
            timed([str(BIN / "dbt"), "parse"], projects[side], ENV)
        for i in range(args.runs):
            for side, env in envs.items():
                name, request = f"ab_{i}", REQUESTS[i % len(REQUESTS)]
                cmd = [str(BIN / "martsmith"), "model", request, "--name", name, "--yes"]
                times.setdefault(side, []).append(timed(cmd, projects[side], env))
                bare = [str(BIN / "dbt"), "build", "--select", name]
                times.setdefault(f"{side}_dbt", []).append(timed(bare, projects[side], ENV))
            print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    result = {"base": args.base, "adapter": args.adapter, "runs": args.runs, "all": times}
    for side in envs:
        ours, bare = statistics.median(times[side]), statistics.median(times[f"{side}_dbt"])
        result[side] = {"martsmith_model_s": ours, "dbt_build_s": bare, "ratio": ours / bare}
        print(f"{side}: martsmith model {ours:.2f} s, dbt build {bare:.2f} s -> ratio {ours / bare:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
