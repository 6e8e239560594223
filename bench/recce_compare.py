"""`martsmith review` beside Recce (issue 12): the review fixture's five head commits, each run
through both, with what each reports and how long each takes.

Recce is not a dependency of martsmith: it lives in a virtual environment of its own, made once:

    python3 -m venv /tmp/recce-venv
    /tmp/recce-venv/bin/pip install recce "dbt-core~=1.11.0" "dbt-duckdb~=1.11.0"

and passed as `--recce-venv` (default /tmp/recce-venv). Without it the script says so and exits 0.

The fixture is tests/review/conftest.py's (its helpers imported from there): the sample project at
scale 0.3, `order_count_by_status` and `total_revenue_by_customer_country` generated, the
hand-written child `revenue_share`, committed as tag `base` and built. The head commits are
those of tests/review/test_review_fixture.py:

  clean        order_count_by_status regenerated from another wording (no data change)
  fan_out      a hand edit drops the dedupe of customers in the revenue model (a fan-out join)
  dropped      total_revenue renamed to revenue: revenue_share reads it
  filter       the revenue model regenerated with "excluding cancelled orders"
  new          a new model orders_per_day with no tests and no docs

Each side, timed by wall clock as subprocesses:

  martsmith  `martsmith review --base base --format json --fail-on never` (it builds the change
             and its children into its own schema, then diffs)
  Recce      what Recce needs and runs: the base's artifacts (`dbt docs generate` into
             target-base/ on the base commit, once, untimed: production's artifacts), then for
             the head `dbt build --select state:modified+ --defer --state target-base` into a PR
             schema (main__pr) and `dbt docs generate` (the current environment's catalog), then
             `recce run` with preset checks (row_count_diff and schema_diff on state:modified+,
             value_diff on each changed model's primary key, profile_diff on each changed
             model), then `recce summary`. Recce's telemetry is off (profile anonymous_tracking:
             false, RECCE_DISABLE_TELEMETRY=1, a HOME of its own); the machine has no network.

Usage: .venv/bin/python bench/recce_compare.py [--recce-venv /tmp/recce-venv] [--json bench/results/recce.json]
       [--only clean,fan_out]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
INSTALL = (
    'python3 -m venv {venv} && {venv}/bin/pip install recce "dbt-core~=1.11.0" "dbt-duckdb~=1.11.0"'
    "  # then: .venv/bin/python bench/recce_compare.py --recce-venv {venv}"
)
REVENUE = "models/marts/total_revenue_by_customer_country.sql"
# Each model's grain (its unique key), for Recce's value_diff and martsmith's key diff alike.
KEYS = {
    "order_count_by_status": "status",
    "total_revenue_by_customer_country": "customer_country",
    "revenue_share": "country_name",
    "orders_per_day": "order_date",
}
SCALE = 0.3  # tests/conftest.py's SAMPLE_SCALE
# Recce 1.69 runs its checks in worker threads where dbt's invocation context (a ContextVar) is
# unset, so rendering `env_var()` in a package's dbt_project.yml (martsmith's package has one)
# fails with "Could not render ...: <ContextVar name='DBT_INVOCATION_CONTEXT_VAR'>". Recce is
# run through this shim: the lookup falls back to a context of the process environment.
RECCE_SHIM = """
import os, sys
import dbt_common.context as c
_get = c.get_invocation_context
def get_invocation_context():
    try:
        return _get()
    except LookupError:
        c.set_invocation_context(os.environ)
        return _get()
c.get_invocation_context = get_invocation_context
from recce.cli import cli
sys.argv[0] = "recce"
cli()
"""


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return env | (extra or {})


def _run(
    cmd: list[str], cwd: Path, *, env: dict | None = None, ok: bool = False
) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env or _env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0 and not ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc


# -- the fixture (tests/review/conftest.py) -----------------------------------------------------


def _fixture_helpers():
    sys.path.insert(0, str(REPO / "tests" / "review"))
    import conftest  # tests/review/conftest.py: REVENUE_SHARE, git()

    return conftest


def make_template(work: Path) -> Path:
    """The review fixture's base, as tests/review/conftest.py's review_repo_template makes it."""
    fx = _fixture_helpers()
    root = work / "template" / "shop"
    root.parent.mkdir(parents=True)
    # As subprocesses (the fixture runs them in-process): this process then holds no DuckDB lock.
    _run([str(BIN / "martsmith"), "init", str(root), "--sample", "--scale", str(SCALE)], root.parent)
    for request in ("number of orders per status", "total revenue by customer country"):
        _run([str(BIN / "martsmith"), "model", request, "--yes"], root)
    (root / "models/marts/revenue_share.sql").write_text(fx.REVENUE_SHARE)
    (root / "models/marts/revenue_share.yml").write_text(
        "version: 2\nmodels:\n  - name: revenue_share\n    description: 'One row per customer country, its share "
        "of revenue.'\n    columns:\n      - name: country_name\n        data_tests: [unique]\n"
    )
    fx.git(root, "init", "-q", "-b", "main")
    fx.git(root, "add", "-A")
    fx.git(root, "commit", "-qm", "base")
    fx.git(root, "tag", "base")
    _run([str(BIN / "dbt"), "build", "--select", "revenue_share"], root)
    return root


def _regenerate(request: str, name: str):
    def change(root: Path) -> None:
        _run([str(BIN / "martsmith"), "model", request, "--name", name, "--force", "--yes", "--no-build"], root)

    return change


def _fan_out(root: Path) -> None:
    path = root / REVENUE
    dedupe = (
        "    {{ martsmith.deduplicate(\n"
        "        source('shop', 'customers'), partition_by='id', order_by='updated_at desc nulls last'\n"
        "    ) }}\n"
    )
    path.write_text(path.read_text().replace(dedupe, "    select * from {{ source('shop', 'customers') }}\n", 1))


def _dropped(root: Path) -> None:
    path = root / REVENUE
    final = "        total_revenue\n    from aggregated"
    path.write_text(path.read_text().replace(final, "        total_revenue as revenue\n    from aggregated"))


def _new(root: Path) -> None:
    (root / "models/marts/orders_per_day.sql").write_text(
        "select cast(ordered_at as date) as order_date, count(*) as orders\n"
        "from {{ source('shop', 'orders') }}\ngroup by 1\n"
    )


SCENARIOS = {
    "clean": ("clean regenerated model", _regenerate("count of orders per status", "order_count_by_status")),
    "fan_out": ("hand-edited fan-out join", _fan_out),
    "dropped": ("dropped column used downstream", _dropped),
    "filter": (
        "changed filter",
        _regenerate(
            "total revenue by customer country, excluding cancelled orders", "total_revenue_by_customer_country"
        ),
    ),
    "new": ("new model without tests", _new),
}


# -- one scenario through both ---------------------------------------------------------------


def run_scenario(template: Path, work: Path, key: str, recce_venv: Path) -> dict:
    fx = _fixture_helpers()
    title, change = SCENARIOS[key]
    root = work / key / "shop"
    shutil.copytree(template, root, symlinks=True)
    shutil.rmtree(root / "target", ignore_errors=True)  # as the fixture does: its manifest holds the template's paths
    change(root)
    fx.git(root, "add", "-A")
    fx.git(root, "commit", "-qm", key)

    ms_s, proc = _run(
        [str(BIN / "martsmith"), "review", "--base", "base", "--format", "json", "--fail-on", "never"], root
    )
    ours = json.loads(proc.stdout)
    changed = [m["name"] for m in ours["models"] if m["change"] in ("added", "modified")]
    recce = run_recce(root, work / key, recce_venv, changed)
    return {"key": key, "title": title, "martsmith_s": ms_s, "martsmith": ours, "recce": recce}


def run_recce(root: Path, folder: Path, venv: Path, changed: list[str]) -> dict:
    """Recce's current environment built, its checks run, its summary written; each step timed."""
    home = folder / "recce-home"
    (home / ".recce").mkdir(parents=True)
    (home / ".recce" / "profile.yml").write_text("user_id: martsmith-bench\nanonymous_tracking: false\n")
    env = _env({"HOME": str(home), "RECCE_DISABLE_TELEMETRY": "1"})
    profiles = yaml.safe_load((root / "profiles.yml").read_text())
    for profile in profiles.values():
        for target in profile["outputs"].values():
            target["schema"] = "main__pr"
            target["path"] = str((root / target["path"]).resolve())
    pr = folder / "pr-profile"
    pr.mkdir()
    (pr / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False))
    dbt = str(venv / "bin" / "dbt")
    recce = [str(venv / "bin" / "python"), "-c", RECCE_SHIM]
    common = ["--profiles-dir", str(pr), "--target-path", "target"]
    checks = [
        {"name": "Row count diff", "type": "row_count_diff", "params": {"select": "state:modified+"}},
        {"name": "Schema diff", "type": "schema_diff", "params": {"select": "state:modified+"}},
    ]
    for name in changed:
        if name in KEYS:
            checks.append(
                {
                    "name": f"Value diff {name}",
                    "type": "value_diff",
                    "params": {"model": name, "primary_key": KEYS[name]},
                }
            )
        checks.append({"name": f"Profile diff {name}", "type": "profile_diff", "params": {"model": name}})
    (root / "recce.yml").write_text(yaml.safe_dump({"checks": checks}, sort_keys=False))
    seconds: dict[str, float] = {}
    seconds["dbt build"], build = _run(
        [dbt, "build", "--select", "state:modified+", "--defer", "--state", "target-base", *common],
        root,
        env=env,
        ok=True,
    )
    seconds["dbt docs generate"], _ = _run([dbt, "docs", "generate", *common], root, env=env, ok=True)
    seconds["recce run"], run = _run(
        [
            *recce,
            "run",
            "--target-path",
            "target",
            "--target-base-path",
            "target-base",
            "--profiles-dir",
            str(pr),
            "-o",
            str(folder / "recce_state.json"),
        ],
        root,
        env=env,
        ok=True,
    )
    seconds["recce summary"], summary = _run(
        [*recce, "summary", str(folder / "recce_state.json")], root, env=env, ok=True
    )
    state = json.loads((folder / "recce_state.json").read_text()) if (folder / "recce_state.json").is_file() else {}
    return {
        "seconds": seconds,
        "build_ok": build.returncode == 0,
        "build_tail": build.stdout[-1500:],
        "run_rc": run.returncode,
        "run_tail": (run.stdout + run.stderr)[-3000:],
        "summary": summary.stdout,
        "state": state,
    }


# -- what each reports ------------------------------------------------------------------------


def martsmith_facts(doc: dict) -> dict:
    findings = doc["findings"]
    rules = sorted({f"{f['rule']} {f['model']}" for f in findings})
    data = []
    for m in doc["models"]:
        d = m.get("data") or {}
        bits = [f"{m['name']} ({m['change']}, {m['build']})"]
        if d.get("verdict"):
            bits.append(d["verdict"])
        data.append(": ".join(bits))
    return {
        "errors": sum(1 for f in findings if f["severity"] == "error"),
        "warnings": sum(1 for f in findings if f["severity"] == "warn"),
        "rules": rules,
        "fan_out": any(f["rule"] == "MS011" for f in findings),
        "dropped_downstream": [f["message"] for f in findings if f["rule"] == "MS012"],
        "provenance": {
            m["name"]: (m.get("provenance") or {}).get("status") for m in doc["models"] if m.get("provenance")
        },
        "build_failures": [f["message"] for f in findings if f["rule"] == "MS015"],
        "data": data,
    }


def recce_facts(state: dict) -> dict:
    """What Recce's checks found, read from its state file (each run names its check)."""
    out: dict = {"row_counts": {}, "value_diff": {}, "profile_diff": {}, "errors": []}
    for run in state.get("runs") or []:
        result, kind = run.get("result"), run.get("type")
        if run.get("error"):
            out["errors"].append(f"{run.get('name')}: {str(run['error']).splitlines()[-1][:160]}")
            continue
        if kind == "row_count_diff" and isinstance(result, dict):
            for node, counts in result.items():
                if isinstance(counts, dict):
                    out["row_counts"][node] = (counts.get("base"), counts.get("curr"))
        elif kind == "value_diff" and isinstance(result, dict):
            out["value_diff"][run["params"]["model"]] = _value_diff_summary(result)
        elif kind == "profile_diff" and isinstance(result, dict):
            out["profile_diff"][run["params"]["model"]] = _profile_summary(result)
    return out


def _rows(frame: dict | None) -> list[dict]:
    frame = frame or {}
    names = [c.get("key") or c.get("name") for c in frame.get("columns") or []]
    return [dict(zip(names, row)) for row in frame.get("data") or []]


def _value_diff_summary(result: dict) -> str:
    summary = result.get("summary") or {}
    mismatched = [
        f"{r['column']} {float(r['matched_p']):.0%} matched"
        for r in _rows(result.get("data"))
        if r.get("matched_p") is not None and float(r["matched_p"]) < 1.0
    ]
    head = f"{summary.get('total')} keys, {summary.get('added')} added, {summary.get('removed')} removed"
    return head + ("; " + ", ".join(mismatched) if mismatched else "; every column matches")


def _profile_summary(result: dict) -> str:
    base = {r["column_name"]: r for r in _rows(result.get("base"))}
    current = {r["column_name"]: r for r in _rows(result.get("current"))}
    changed = sorted(c for c in base.keys() & current.keys() if base[c] != current[c])
    new, gone = sorted(current.keys() - base.keys()), sorted(base.keys() - current.keys())
    bits = [f"stats changed: {', '.join(changed)}" if changed else "no column's stats changed"]
    if new:
        bits.append(f"new columns: {', '.join(new)}")
    if gone:
        bits.append(f"columns gone: {', '.join(gone)}")
    return "; ".join(bits)


def schema_changes(root_base: Path, root_head: Path) -> list[str]:
    """Columns added or removed per node between Recce's two catalogs (what its schema diff shows)."""
    out = []
    try:
        base = json.loads((root_base / "catalog.json").read_text())["nodes"]
        head = json.loads((root_head / "catalog.json").read_text())["nodes"]
    except (OSError, KeyError, json.JSONDecodeError):
        return out
    for uid, node in head.items():
        if not uid.startswith("model.") or uid not in base:
            continue
        bcols, hcols = set(base[uid]["columns"]), set(node["columns"])
        if bcols != hcols:
            out.append(f"{uid.split('.')[-1]}: +{sorted(hcols - bcols)} -{sorted(bcols - hcols)}")
    return out


# -- the report -------------------------------------------------------------------------------


def table(r: dict) -> str:
    ms, rc = martsmith_facts(r["martsmith"]), r["recce"]
    facts = recce_facts(rc["state"])
    recce_total = sum(rc["seconds"].values())
    row_counts = ", ".join(f"{k} {b}→{c}" for k, (b, c) in sorted(facts["row_counts"].items())) or "-"
    values = "<br>".join(f"{k}: {v}" for k, v in sorted(facts["value_diff"].items())) or "-"
    profiles = "<br>".join(f"{k}: {v}" for k, v in sorted(facts["profile_diff"].items())) or "-"
    errors = "<br>".join(facts["errors"]) or "none"
    build = "passed" if rc["build_ok"] else "**failed** (the user's `dbt build` before Recce)"
    lines = [
        f"### {r['title']} (`{r['key']}`)",
        "",
        "| | martsmith review | Recce |",
        "| --- | --- | --- |",
        f"| findings / verdict | {ms['errors']} errors, {ms['warnings']} warnings: {', '.join(ms['rules']) or 'none'} |"
        f" no verdict (checks to read); check errors: {errors} |",
        f"| row counts and changed rows | {'<br>'.join(ms['data'])} | row counts: {row_counts}<br>value diff: {values} |",
        f"| column profiles | (not computed) | {profiles} |",
        f"| schema (columns added/removed) | {'; '.join(ms['dropped_downstream']) or 'no dropped column read downstream'} |"
        f" {'; '.join(r.get('schema_changes') or []) or 'no column added or removed'} |",
        f"| fan-out join | {'MS011: found' if ms['fan_out'] else 'none found'} | no such check |",
        f"| downstream breakage | {'<br>'.join(ms['build_failures']) or 'none'} | build {build} |",
        f"| hand edit / provenance | {', '.join(f'{k}: {v}' for k, v in ms['provenance'].items()) or '-'} |"
        " no such concept |",
        f"| seconds | {r['martsmith_s']:.1f} (build, checks and diffs) | {recce_total:.1f} = "
        + " + ".join(f"{k} {v:.1f}" for k, v in rc["seconds"].items())
        + " |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recce-venv", type=Path, default=Path("/tmp/recce-venv"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args()
    venv = args.recce_venv
    if not (venv / "bin" / "recce").is_file() or not (venv / "bin" / "dbt").is_file():
        print(f"Recce is not installed in {venv}: skipping the comparison. To run it:\n  {INSTALL.format(venv=venv)}")
        return
    version = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import recce, importlib.metadata as m; "
            "print(m.version('recce'), m.version('dbt-core'), m.version('dbt-duckdb'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    work = args.keep or Path(tempfile.mkdtemp(prefix="recce_compare_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        template = make_template(work)
        _run([str(venv / "bin" / "dbt"), "docs", "generate", "--target-path", "target-base"], template)
        results = []
        for key in args.only.split(","):
            r = run_scenario(template, work, key, venv)
            r["schema_changes"] = schema_changes(work / key / "shop" / "target-base", work / key / "shop" / "target")
            results.append(r)
            print(table(r), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"versions: recce {version[0] if version else '?'}, dbt-core {version[1] if len(version) > 1 else '?'}, "
        f"dbt-duckdb {version[2] if len(version) > 2 else '?'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        for r in results:
            r["recce"]["facts"] = recce_facts(r["recce"].pop("state"))
        args.json.write_text(json.dumps({"versions": version, "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
