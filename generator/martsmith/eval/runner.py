"""Run an evaluation set: each request planned, built and tested in a scratch copy of the
project, its rows compared with the gold's. Nothing of the user's project or warehouse changes.

The scratch copy is made once per run: the project files (not `target/` or `logs/`), the DuckDB
file, and a profiles.yml pointing at the copy. After each case its model files are removed and
its relation dropped, so no case sees an earlier case's model in its catalog.

Results: **pass** (built; same rows as the gold), **wrong** (built, exit 0, rows differ: the
worst outcome), **refused** (the planner said it cannot, exit 2), **error** (any other failure:
a check, dbt, the LLM).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from martsmith.context.project import Project, load_project
from martsmith.context.warehouse import Warehouse, relation_sql
from martsmith.errors import MartsmithError, PlanError, UsageError
from martsmith.eval.cases import EvalCase, EvalSuite
from martsmith.eval.compare import compare, row_diff
from martsmith.pipelines.model import generate_model
from martsmith.pipelines.run import Run
from martsmith.validate.static import check_safety

Progress = Callable[[str], None]
# What a case's result carries of the rows: enough to see what differs, never the whole table.
ROWS_SHOWN = 5
SKIP = {"target", "logs", ".git", "__pycache__"}


@dataclass
class CaseResult:
    id: str
    request: str
    shape: str | None
    status: str  # pass | wrong | refused | error
    message: str = ""
    model: str | None = None
    plan: list[str] = field(default_factory=list)
    diff: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class EvalReport:
    suite: str
    planner: str
    results: list[CaseResult]
    seconds: float

    @property
    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)

    @property
    def accuracy(self) -> float:
        return self.counts["pass"] / len(self.results) if self.results else 0.0

    def by_shape(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter] = {}
        for r in self.results:
            out.setdefault(r.shape or "-", Counter())[r.status] += 1
        return {k: dict(v) for k, v in sorted(out.items())}

    def as_dict(self) -> dict:
        counts = self.counts
        return {
            "suite": self.suite,
            "planner": self.planner,
            "cases": len(self.results),
            "accuracy": round(self.accuracy, 4),
            "passed": counts["pass"],
            "wrong": counts["wrong"],
            "refused": counts["refused"],
            "errors": counts["error"],
            "by_shape": self.by_shape(),
            "seconds": round(self.seconds, 1),
            "results": [asdict(r) for r in self.results],
        }


@contextmanager
def scratch_project(project: Project) -> Iterator[Project]:
    """A throwaway copy of `project` and its DuckDB warehouse (removed afterwards)."""
    if project.duckdb_path is None:
        raise UsageError(
            "martsmith eval works on a DuckDB target with a database file so far.",
            hint="Point --target at a DuckDB target.",
        )
    tmp = Path(tempfile.mkdtemp(prefix="martsmith-eval-"))
    try:
        root = tmp / project.root.name
        shutil.copytree(
            project.root,
            root,
            symlinks=True,
            ignore=lambda d, names: [n for n in names if n in SKIP or n.endswith((".duckdb", ".duckdb.wal"))],
        )
        db = tmp / "warehouse.duckdb"
        if project.duckdb_path.exists():
            shutil.copy2(project.duckdb_path, db)
        profiles = tmp / "profiles"
        profiles.mkdir()
        target = {**project.target, "path": str(db)}
        (profiles / "profiles.yml").write_text(
            yaml.safe_dump(
                {project.profile_name: {"target": project.target_name, "outputs": {project.target_name: target}}}
            )
        )
        yield load_project(root, profiles, project.target_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _query(project: Project, sql: str) -> list[tuple]:
    with Warehouse(project) as wh, wh.read_only():
        return wh.query(sql)


def gold_rows(case: EvalCase, project: Project) -> list[tuple]:
    if case.gold_rows is not None:
        return [tuple(r) for r in case.gold_rows]
    problems = check_safety(case.gold or "")
    if problems:
        raise UsageError(f"case {case.id}: the gold is not one SELECT: {problems[0].message}")
    return _query(project, case.gold or "")


def _undo(project: Project, result) -> None:
    """Remove the case's model files and relation from the scratch copy."""
    for path in (result.sql_path, result.yml_path):
        Path(path).unlink(missing_ok=True)
    with Warehouse(project) as wh:
        for kind in ("view", "table"):
            if wh.relation_kind(project.schema, result.spec.name) == kind:
                wh.execute(f"drop {kind} if exists {relation_sql(project.schema, result.spec.name)}")


def run_case(case: EvalCase, number: int, project: Project, *, llm_model: str | None) -> CaseResult:
    t0 = time.perf_counter()
    out = CaseResult(case.id, case.request, case.shape, "error")
    try:
        gold = gold_rows(case, project)
    except MartsmithError as exc:
        out.message = f"gold: {exc.message}"
        return out
    try:
        run = Run(project, yes=True, silent=True)
        result = generate_model(run, case.request, name=f"eval_case_{number}", llm_model=llm_model, force=True)
    except PlanError as exc:
        out.status, out.message = ("error" if exc.exit_code == 5 else "refused"), exc.message
    except MartsmithError as exc:
        out.message = exc.message
    except Exception as exc:  # noqa: BLE001 - an eval reports every failure and goes on
        out.message = f"internal error: {type(exc).__name__}: {exc}"
    else:
        try:
            rows = _query(project, f"select * from {relation_sql(project.schema, result.spec.name)}")
            verdict = compare(gold, rows)
            out.status = "pass" if verdict.ok else "wrong"
            out.message = verdict.why
            out.model = result.spec.name
            out.plan = [result.spec.description, *result.spec.notes]
            if not verdict.ok:
                out.diff = row_diff(gold, rows, ROWS_SHOWN)
        finally:
            _undo(project, result)
    out.seconds = round(time.perf_counter() - t0, 2)
    return out


def run_suite(
    suite: EvalSuite,
    project: Project,
    *,
    name: str = "cases",
    llm_model: str | None = None,
    progress: Progress = lambda _m: None,
) -> EvalReport:
    """Every case of `suite` against a scratch copy of `project`."""
    t0 = time.perf_counter()
    results = []
    with scratch_project(project) as scratch:
        for i, case in enumerate(suite.cases, 1):
            progress(f"[{i}/{len(suite.cases)}] {case.id}")
            results.append(run_case(case, i, scratch, llm_model=llm_model))
    planner = f"llm:{llm_model}" if llm_model else "offline"
    return EvalReport(name, planner, results, time.perf_counter() - t0)
