"""`martsmith review` in memory: base and head manifests -> the change -> static rules and lint
-> provenance of generated models -> an isolated build of the change and its children -> data
diffs against the base's relations and the rules that need data -> a `Review`.

The base's relations are read, never written: the build goes to the review's own schemas
(build.py), which are dropped before this returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.review.build import BuildResult, review_run
from martsmith.review.changes import ChangeSet, Manifest, ModelState
from martsmith.review.checks import dropped_column_findings, fan_out_findings
from martsmith.review.datadiff import DataDiff, diff_model, primary_key, relation_columns
from martsmith.review.impact import downstream, lineage
from martsmith.review.provenance import Provenance, check_provenance
from martsmith.review.rules import ReviewFinding, static_findings
from martsmith.validate.worker import CheckWorker

Progress = Callable[[str], None]


@dataclass
class ModelReview:
    name: str
    change: str  # added | modified | removed | downstream
    path: str
    generated: bool = False
    provenance: Provenance | None = None
    diff: DataDiff | None = None
    downstream: list[str] = field(default_factory=list)
    exposures: list[str] = field(default_factory=list)
    tests: int = 0
    described: bool = False
    columns_documented: tuple[int, int] = (0, 0)  # documented, total (in the YAML)
    build: str = ""  # built | failed | skipped | not built


@dataclass
class Review:
    base: str
    models: list[ModelReview]
    findings: list[ReviewFinding]
    build: BuildResult
    lineage: str
    seconds: dict[str, float] = field(default_factory=dict)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, fail_on: str) -> bool:
        if fail_on == "never":
            return False
        if fail_on == "warn":
            return bool(self.findings)
        return self.count("error") > 0


def _columns_of(wh: Warehouse, model: ModelState | None) -> list[str] | None:
    if model is None:
        return None
    cols = relation_columns(wh, model.schema, model.alias)
    return [c for c, _ in cols] if cols else None


def review_project(
    project: Project,
    *,
    base_ref: str | None = None,
    state_dir: Path | None = None,
    select: list[str] | None = None,
    lint: bool = True,
    static: bool = False,
    progress: Progress = lambda _m: None,
) -> Review:
    """Review the working tree of `project` against a git ref or a directory of artifacts.

    `static` stops after the rules and lint: no provenance (it reads the catalog), no build, no
    data diff, so nothing connects to the warehouse (a pre-commit hook's mode)."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 2)
        clock = now

    # sqlfluff is imported and warmed up in a forked worker on the second core while dbt parses
    # here (validate/worker.py); the lint of the changed models then runs there.
    worker = CheckWorker(project.root) if lint else None
    try:
        return _review(project, base_ref, state_dir, select, worker, static, progress, seconds, lap)
    finally:
        if worker is not None:
            worker.close()


def _review(project, base_ref, state_dir, select, worker, static, progress, seconds, lap) -> Review:
    with review_run(project) as run:
        progress(f"parsing the base ({base_ref})" if base_ref else f"reading the base state in {state_dir}")
        base = run.base_from_ref(base_ref) if base_ref else run.base_from_state(Path(state_dir or "."))
        progress("parsing the working tree")
        head = run.head()
        change = ChangeSet.between(base.models, head.models, head.children, set(select) if select else None)
        lap("parse")
        findings = _static(change, head, project, worker=worker, progress=progress)
        lap("static")
        if static:
            return _static_review(base_ref or str(state_dir), change, head, base, findings, seconds)
        provenances = _provenance(change, head, base, project, progress, worker)
        lap("provenance")
        try:
            run.drop_schemas()
            if change.changed:
                progress(f"building {len(change.changed)} changed models and their children in {run.schema}")
            built = run.build(change.changed)
            lap("build")
            progress("comparing the data with the base")
            models = _data(run, change, head, base, built, provenances, findings)
            lap("diff")
        finally:
            run.drop_schemas()
    graph = lineage(head, base, change)
    findings += _build_findings(built, head)
    _sort(findings)
    label = base_ref or str(state_dir)
    return Review(label, models, findings, built, graph, seconds)


def _sort(findings: list[ReviewFinding]) -> None:
    findings.sort(key=lambda f: ({"error": 0, "warn": 1}[f.severity], f.model, f.rule, f.line or 0, f.message))


def _static_review(
    label: str, change: ChangeSet, head: Manifest, base: Manifest, findings: list[ReviewFinding], seconds: dict
) -> Review:
    """The review of `--static`: the change, its rules and lint findings, its lineage; nothing built."""
    models = [_model_review(head, head.models[n], kind) for kind, names in _groups(change) for n in names]
    for review in models:
        review.build = "static"
    for name in change.removed:
        gone = base.models[name]
        models.append(ModelReview(name, "removed", gone.path, generated=bool(gone.generated), build="-"))
    _sort(findings)
    return Review(label, models, findings, BuildResult(ran=False), lineage(head, base, change), seconds)


def _groups(change: ChangeSet) -> tuple[tuple[str, list[str]], ...]:
    return (("added", change.added), ("modified", change.modified), ("downstream", change.children))


def _static(change: ChangeSet, head: Manifest, project: Project, *, worker: CheckWorker | None, progress: Progress):
    findings: list[ReviewFinding] = []
    for name in change.changed:
        findings += static_findings(head.models[name])
    if worker is not None and change.changed:
        progress("linting with sqlfluff")
        for name in change.changed:
            model = head.models[name]
            result = worker.lint(model.raw_code, fname=Path(model.path).name)
            if result.fixed:
                findings.append(ReviewFinding("MS014", name, "sqlfluff fix would reformat this file", None, model.path))
            for f in result.findings:
                line = None if result.fixed else f.line
                findings.append(ReviewFinding("MS014", name, f.message, line, model.path))
    return findings


def _provenance(
    change: ChangeSet, head: Manifest, base: Manifest, project: Project, progress: Progress, worker: CheckWorker | None
):
    generated = [n for n in change.changed if head.models[n].generated]
    if not generated:
        return {}
    progress("re-rendering generated models from their requests")
    # The catalog (dbt's manifest and the warehouse) is read only when a generated model changed.
    from martsmith.context.load import load_context

    ctx = load_context(project, lambda _m: None, need_package=False)
    return {n: check_provenance(ctx, head.models[n], base.models.get(n), worker) for n in generated}


def _data(run, change, head, base, built, provenances, findings) -> list[ModelReview]:
    out: list[ModelReview] = []
    compiled_root = run.target_path / "compiled" / head.project
    with Warehouse(run.project) as wh:
        for kind, names in _groups(change):
            for name in names:
                model = head.models[name]
                base_model = base.models.get(name)
                review = _model_review(head, model, kind)
                review.provenance = provenances.get(name)
                if review.provenance is not None and review.provenance.differs:
                    findings.append(
                        ReviewFinding(
                            "MS013", name, f"{review.provenance.status}: {review.provenance.detail}", None, model.path
                        )
                    )
                review.build = _build_state(built, name)
                base_rel = (base_model.schema, base_model.alias) if base_model else None
                head_rel = (model.schema, model.alias) if review.build == "built" else None
                review.diff = diff_model(
                    wh, name, base_rel, head_rel, primary_key(model.tests, (model.generated or {}).get("grain"))
                )
                compiled = compiled_root / model.path
                if kind != "downstream" and review.build == "built" and compiled.is_file():
                    findings += fan_out_findings(wh, model, compiled.read_text())
                if kind == "modified":
                    base_cols = _columns_of(wh, base_model) or list(base_model.columns if base_model else [])
                    head_cols = _columns_of(wh, model) if review.build == "built" else None
                    if head_cols is None:
                        head_cols = list(model.columns)
                    children = [head.by_id(c) for c in head.children.get(model.unique_id, [])]
                    findings += dropped_column_findings(model, base_cols, head_cols, [c for c in children if c])
                out.append(review)
        for name in change.removed:
            model = base.models[name]
            out.append(ModelReview(name, "removed", model.path, generated=bool(model.generated), build="-"))
    return out


def _model_review(head: Manifest, model: ModelState, kind: str) -> ModelReview:
    below, exposures = downstream(head, model.name)
    documented = sum(1 for d in model.columns.values() if d.strip())
    return ModelReview(
        model.name,
        kind,
        model.path,
        generated=bool(model.generated),
        downstream=below,
        exposures=exposures,
        tests=len(model.tests),
        described=bool(model.description.strip()),
        columns_documented=(documented, len(model.columns)),
    )


def _build_state(built: BuildResult, name: str) -> str:
    if not built.ran:
        return "not built"
    if name in built.models_built:
        return "built"
    if name in built.models_failed:
        return "failed"
    if name in built.skipped:
        return "skipped"
    return "not built"


def _dbt_error(message: str) -> str:
    """The line of dbt's message that says what went wrong (not "Runtime Error in model m")."""
    lines = [m.strip() for m in message.splitlines() if m.strip()]
    useful = [m for m in lines if not m.startswith(("Runtime Error in", "Database Error in", "Compilation Error in"))]
    return (useful or lines or ["(no message)"])[0]


def _build_findings(built: BuildResult, head: Manifest) -> list[ReviewFinding]:
    out = []
    for name, message in sorted(built.models_failed.items()):
        path = head.models[name].path if name in head.models else None
        out.append(ReviewFinding("MS015", name, f"{name} failed to build: {_dbt_error(message)}", None, path))
    for test in built.tests_failed:
        owner = test.model or "?"
        path = head.models[owner].path if owner in head.models else None
        count = f"{test.failures:,} failing rows" if test.failures else "failed"
        out.append(ReviewFinding("MS015", owner, f"test {test.name}: {count}", None, path))
    if built.error and not built.models_failed and not built.tests_failed:
        out.append(ReviewFinding("MS015", "(project)", f"dbt build failed: {built.error.splitlines()[0]}"))
    return out
