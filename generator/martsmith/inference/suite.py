"""The tests of a set of nodes, decided in memory: nodes -> profile -> infer (+ rules) -> check
against the data -> merge into their YAML. `plan_tests` writes nothing (it is also what --dry-run
shows); pipelines/tests.py writes the result and runs `dbt test`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from martsmith.context.catalog import Table, resolve_node
from martsmith.context.conventions import detect_conventions
from martsmith.context.warehouse import Warehouse
from martsmith.errors import UsageError
from martsmith.inference.check import CheckResult, check_tests
from martsmith.inference.infer import infer_tests
from martsmith.inference.merge import merge_into, read_properties, spec_identity
from martsmith.inference.rules import assign_rules
from martsmith.profiling.profiler import profile_relation
from martsmith.profiling.types import TableProfile
from martsmith.spec import TestSpec

Progress = Callable[[str], None]


@dataclass
class NodeTests:
    """Everything decided about one node."""

    table: Table
    profile: TableProfile
    yml_path: Path
    checks: list[CheckResult] = field(default_factory=list)
    written: list[TestSpec] = field(default_factory=list)  # what the merge adds to the YAML
    present: list[TestSpec] = field(default_factory=list)  # already in the YAML
    notes: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failures and not c.dropped]

    def to_write(self, include_failing: bool) -> list[TestSpec]:
        out = []
        for c in self.checks:
            if c.dropped:
                continue
            if c.passed:
                out.append(c.test)
            elif include_failing:
                out.append(
                    c.test.model_copy(
                        update={"severity": "warn", "reason": f"{c.test.reason}; FAILS today: {c.message}"}
                    )
                )
        return out


@dataclass
class TestsPlan:
    __test__ = False

    root: Path
    nodes: list[NodeTests] = field(default_factory=list)
    files: dict[Path, tuple[str | None, str]] = field(default_factory=dict)  # path -> (before, after)
    include_failing: bool = False
    written: bool = False
    tests_passed: int = 0
    tests_warned: int = 0

    @property
    def changed(self) -> dict[Path, tuple[str | None, str]]:
        return {p: (a, b) for p, (a, b) in self.files.items() if a != b}

    def diff(self) -> str:
        out: list[str] = []
        for path, (before, after) in self.changed.items():
            rel = str(path.relative_to(self.root))
            out += difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"a/{rel}" if before is not None else "/dev/null",
                tofile=f"b/{rel}",
            )
        return "".join(out)

    def as_dict(self) -> dict:
        tests, findings, notes = [], [], []
        for n in self.nodes:
            written = {spec_identity(t) for t in n.written}
            for c in n.checks:
                if c.dropped:
                    continue
                ident = spec_identity(c.test)
                status = "failing" if c.failures else "passing"
                tests.append(
                    {
                        "node": n.table.label,
                        **c.test.model_dump(mode="json"),
                        "status": status,
                        "written": ident in written,
                    }
                )
            findings += [{"node": n.table.label, **c.as_dict()} for c in n.findings]
            notes += [{"node": n.table.label, "note": x} for x in n.notes + [c.dropped for c in n.checks if c.dropped]]
        return {
            "tests": tests,
            "findings": findings,
            "notes": notes,
            "files": [str(p.relative_to(self.root)) for p in self.changed],
            "written": self.written,
            "tests_passed": self.tests_passed,
            "tests_warned": self.tests_warned,
        }


def yaml_path(table: Table, ctx) -> Path:
    """The properties file of a node: where the source is declared; the model's existing
    properties file, else where the project keeps one (`<model>.yml` beside its SQL, or the
    folder's shared file: context/conventions.py)."""
    root = ctx.project.root
    if table.kind == "source":
        src = ctx.manifest.sources.get(table.unique_id)
        if src is None or src.package_name != ctx.project.name:
            raise UsageError(
                f"{table.label} is declared by package '{getattr(src, 'package_name', '?')}', not this project: "
                "its YAML is not ours to edit."
            )
        return root / src.original_file_path
    node = ctx.manifest.nodes.get(table.unique_id)
    if node is None or node.package_name != ctx.project.name:
        raise UsageError(
            f"{table.label} belongs to package '{getattr(node, 'package_name', '?')}', not this project: its YAML is not ours to edit."
        )
    if getattr(node, "patch_path", None):
        return root / node.patch_path.split("://", 1)[-1]
    return detect_conventions(ctx.project).properties_path(root / node.original_file_path)


def plan_tests(
    ctx,
    nodes: list[str],
    *,
    rules: str | None = None,
    llm_model: str | None = None,
    include_failing: bool = False,
    progress: Progress = lambda _m: None,
) -> TestsPlan:
    """Infer, check and merge (in memory) the tests of `nodes`; write nothing."""
    if not nodes:
        raise UsageError("Name at least one node.", hint="e.g. martsmith tests source:shop.orders stg_orders")
    tables: list[Table] = []
    for name in nodes:
        t = resolve_node(ctx.catalog, name)
        if t not in tables:
            tables.append(t)
    # --llm only concerns --rules (and MARTSMITH_LLM may be set for other commands).
    ruled = assign_rules(rules, tables, ctx.catalog, llm_model=llm_model) if rules else {}
    plan = TestsPlan(root=ctx.project.root, include_failing=include_failing)
    profiles: dict[str, TableProfile] = {}
    with Warehouse(ctx.project) as wh:
        for t in tables:
            progress(f"profiling {t.label}")
            profiles[t.label] = profile_relation(wh, t)
        for t in tables:
            profile = profiles[t.label]
            node = NodeTests(t, profile, yaml_path(t, ctx))
            plan.nodes.append(node)
            if profile.row_count == 0:
                node.notes.append("no tests inferred: the table is empty")
                continue
            candidates = list(ruled.get(t.label, []))
            seen = {spec_identity(c) for c in candidates}
            candidates += [c for c in infer_tests(t, profile, ctx.catalog, profiles) if spec_identity(c) not in seen]
            progress(f"checking {len(candidates)} candidate tests on {t.label}")
            node.checks = check_tests(wh, t, profile, candidates, ctx.catalog)
    texts: dict[Path, str | None] = {}
    tests_key = detect_conventions(ctx.project).tests_key
    for node in plan.nodes:
        wanted = node.to_write(include_failing)
        if not wanted:
            continue
        path = node.yml_path
        if path not in texts:
            texts[path] = read_properties(path)  # as on disk: CRLF and all
        current = plan.files[path][1] if path in plan.files else (texts[path] or "")
        new_text, added = merge_into(
            path, node.table.kind, node.table.name, node.table.source_name, wanted, text=current, tests_key=tests_key
        )
        node.written = added
        added_ids = {spec_identity(a) for a in added}
        node.present = [w for w in wanted if spec_identity(w) not in added_ids]
        plan.files[path] = (texts[path], new_text)
    return plan
