"""Provenance of generated models: a model whose YAML carries `meta.martsmith` is re-planned
from its recorded request (the offline planner, on the project's catalog), re-rendered and
linted as `martsmith model` would write it, and compared with its SQL file. The difference, if
any, is a unified diff: a hand edit when the SQL changed under the same request, planner drift
when the SQL did not change but the planner now writes something else.

>>> classify(same=True, request_changed=False, sql_changed=True)
'regenerated'
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass

from martsmith.context.load import Context
from martsmith.errors import MartsmithError
from martsmith.review.changes import ModelState
from martsmith.validate.worker import CheckWorker

MAX_DIFF_LINES = 200


@dataclass
class Provenance:
    model: str
    status: str  # matches | regenerated | hand-edited | drift | not re-planned
    request: str
    planner: str
    detail: str = ""
    diff: str = ""  # the rendered SQL (---) against the file (+++)

    @property
    def differs(self) -> bool:
        return self.status in ("hand-edited", "drift")

    def as_dict(self) -> dict:
        return asdict(self)


def classify(*, same: bool, request_changed: bool, sql_changed: bool) -> str:
    """What the comparison of the file with its re-rendering means.

    >>> classify(same=False, request_changed=False, sql_changed=True)
    'hand-edited'
    >>> classify(same=False, request_changed=False, sql_changed=False)
    'drift'
    """
    if same:
        return "regenerated" if (request_changed or sql_changed) else "matches"
    return "hand-edited" if (sql_changed or request_changed) else "drift"


def unified(expected: str, actual: str, path: str) -> str:
    lines = list(
        difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), f"rendered/{path}", path, n=2
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"… {len(lines) - MAX_DIFF_LINES} more lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def rerender(ctx: Context, model: ModelState, worker: CheckWorker | None = None) -> str:
    """The SQL `martsmith model` writes today for the model's recorded request (sqlfluff's fix
    run in `worker` when given, validate/worker.py)."""
    # The model pipeline's own plan and lint steps, so that the comparison is with what it writes.
    from martsmith.pipelines.model import plan_request
    from martsmith.render.sql import render_sql
    from martsmith.validate.lint import lint_sql

    request = str((model.generated or {}).get("request", ""))
    spec = plan_request(request, ctx, name=model.name, llm_model=None)
    fname = f"{model.name}.sql"
    if worker is not None:
        return worker.lint(render_sql(spec), fname=fname).sql
    return lint_sql(render_sql(spec), ctx.project.root, fname=fname).sql


def check_provenance(
    ctx: Context, model: ModelState, base: ModelState | None, worker: CheckWorker | None = None
) -> Provenance:
    meta = model.generated or {}
    request, planner = str(meta.get("request", "")), str(meta.get("planner", ""))
    out = Provenance(model.name, "not re-planned", request, planner)
    if planner != "offline":
        out.detail = f"planned by {planner or 'an unknown planner'}: only offline plans are re-rendered"
        return out
    try:
        expected = rerender(ctx, model, worker)
    except MartsmithError as exc:
        out.detail = f"its request no longer plans: {exc.message}"
        return out
    base_meta = (base.generated or {}) if base else {}
    request_changed = base is not None and str(base_meta.get("request", "")) != request
    sql_changed = base is not None and base.checksum != model.checksum
    same = expected == model.raw_code
    out.status = classify(same=same, request_changed=request_changed, sql_changed=sql_changed)
    if not same:
        out.diff = unified(expected, model.raw_code, model.path)
        out.detail = (
            "the SQL differs from what its request renders to"
            if out.status == "hand-edited"
            else "the planner now renders its unchanged request differently"
        )
    return out
