"""The change under review: models added, modified or removed between a base manifest (a git
ref parsed in a temporary worktree, or a directory of dbt artifacts) and the working tree, and
their children (`state:modified+`).

A model is *modified* when its SQL (dbt's checksum), its description, its columns' docs, its
materialization, its `meta` or its data tests differ.

>>> a = ModelState("model.p.m", "m", "models/m.sql", "x1")
>>> b = ModelState("model.p.m", "m", "models/m.sql", "x2")
>>> ChangeSet.between({"m": a}, {"m": b}, {}).modified
['m']
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from martsmith.errors import ProjectError, UsageError


@dataclass
class ModelState:
    """One model as a manifest records it (base or head), reduced to what a review compares."""

    unique_id: str
    name: str
    path: str  # original_file_path, relative to the project
    checksum: str
    raw_code: str = ""
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    materialized: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    tests: list[str] = field(default_factory=list)  # "unique(id)", "not_null(id)", "martsmith.not_empty"
    depends_on: list[str] = field(default_factory=list)  # unique ids of parents (models, sources)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (source, table) read
    refs: list[str] = field(default_factory=list)  # names of the models it refs
    database: str | None = None
    schema: str = ""
    alias: str = ""
    patch_path: str | None = None  # the YAML that documents it

    @property
    def generated(self) -> dict[str, Any] | None:
        """`meta.martsmith`: the provenance of a model martsmith generated."""
        value = self.meta.get("martsmith")
        return value if isinstance(value, dict) else None

    def same_as(self, other: ModelState) -> bool:
        return (
            self.checksum == other.checksum
            and self.description == other.description
            and self.columns == other.columns
            and self.materialized == other.materialized
            and self.meta == other.meta
            and sorted(self.tests) == sorted(other.tests)
        )


@dataclass
class Manifest:
    """The models (by name), sources and exposures of one parsed project."""

    models: dict[str, ModelState]
    children: dict[str, list[str]]  # unique id -> unique ids of its children (models, exposures)
    exposures: dict[str, str] = field(default_factory=dict)  # unique id -> name
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # unique id -> (source, table)
    project: str = ""

    def by_id(self, unique_id: str) -> ModelState | None:
        return next((m for m in self.models.values() if m.unique_id == unique_id), None)


def _test_label(node: dict) -> str:
    meta = node.get("test_metadata") or {}
    name = meta.get("name") or node.get("name", "")
    namespace = meta.get("namespace")
    label = f"{namespace}.{name}" if namespace else name
    column = node.get("column_name")
    if column:
        return f"{label}({column})"
    kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k != "model"}
    return f"{label}({', '.join(f'{k}={v}' for k, v in sorted(kwargs.items()))})" if kwargs else label


def manifest_from_dict(data: dict) -> Manifest:
    """A Manifest from dbt's manifest.json (as a dict)."""
    nodes = data.get("nodes", {})
    project = (data.get("metadata") or {}).get("project_name") or ""
    tests_of: dict[str, list[str]] = {}
    for node in nodes.values():
        if node.get("resource_type") == "test":
            owner = node.get("attached_node") or next(iter((node.get("depends_on") or {}).get("nodes", [])), None)
            if owner:
                tests_of.setdefault(owner, []).append(_test_label(node))
    models: dict[str, ModelState] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") != "model":
            continue
        if project and node.get("package_name") != project:
            continue  # a package's models (martsmith's own examples) are not the change
        config = node.get("config") or {}
        models[node["name"]] = ModelState(
            unique_id=uid,
            name=node["name"],
            path=node.get("original_file_path", ""),
            checksum=(node.get("checksum") or {}).get("checksum", ""),
            raw_code=node.get("raw_code", ""),
            description=node.get("description") or "",
            columns={c: (v.get("description") or "") for c, v in (node.get("columns") or {}).items()},
            materialized=str(config.get("materialized") or ""),
            meta=dict(config.get("meta") or node.get("meta") or {}),
            tests=sorted(tests_of.get(uid, [])),
            depends_on=list((node.get("depends_on") or {}).get("nodes", [])),
            sources=[tuple(s[:2]) for s in node.get("sources") or []],
            refs=[r["name"] if isinstance(r, dict) else r[-1] for r in node.get("refs") or []],
            database=node.get("database"),
            schema=node.get("schema") or "",
            alias=node.get("alias") or node["name"],
            patch_path=node.get("patch_path"),
        )
    children = {k: list(v) for k, v in (data.get("child_map") or {}).items()}
    exposures = {uid: e.get("name", uid) for uid, e in (data.get("exposures") or {}).items()}
    sources = {uid: (s.get("source_name", ""), s.get("name", "")) for uid, s in (data.get("sources") or {}).items()}
    return Manifest(models, children, exposures, sources, project)


def read_manifest(path: Path) -> Manifest:
    """target/manifest.json (or a state directory's) as a Manifest."""
    try:
        return manifest_from_dict(json.loads(path.read_text()))
    except FileNotFoundError as exc:
        raise UsageError(
            f"No dbt manifest at {path}.",
            hint="Point --state at a folder holding the base's manifest.json (dbt writes it to target/).",
        ) from exc
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{path} is not valid JSON: {exc}") from exc


@dataclass
class ChangeSet:
    added: list[str]
    modified: list[str]
    removed: list[str]
    children: list[str]  # downstream of a change, not changed themselves (models of the head)

    @property
    def changed(self) -> list[str]:
        """Models present in the head that the change touched (added or modified)."""
        return sorted(self.added + self.modified)

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.removed)

    @classmethod
    def between(
        cls,
        base: dict[str, ModelState],
        head: dict[str, ModelState],
        children: dict[str, list[str]],
        only: set[str] | None = None,
    ) -> ChangeSet:
        """The change from `base` to `head`; `only` keeps the changes among those names (--select)."""
        keep = (lambda n: n in only) if only else (lambda n: True)
        added = sorted(n for n in head if n not in base and keep(n))
        removed = sorted(n for n in base if n not in head and keep(n))
        modified = sorted(n for n in head if n in base and not head[n].same_as(base[n]) and keep(n))
        by_id = {m.unique_id: n for n, m in head.items()}
        seen: set[str] = set()
        todo = [head[n].unique_id for n in added + modified]
        while todo:
            for child in children.get(todo.pop(), []):
                if child in by_id and by_id[child] not in seen:
                    seen.add(by_id[child])
                    todo.append(child)
        downstream = sorted(seen - set(added) - set(modified))
        return cls(added, modified, removed, downstream)


def _git_runner(root: Path):
    git = shutil.which("git")
    if git is None:
        raise UsageError("--base needs git, which is not on the PATH.", hint="Use --state DIR instead.")

    def run(*args: str, cwd: Path = root) -> str:
        done = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise UsageError(
                f"git {' '.join(args[:2])} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}",
                hint="Check that the project is in a git repository and that the base ref exists (git rev-parse REF).",
            )
        return done.stdout.strip()

    return git, run


def commit_of(root: Path, ref: str) -> str:
    """The commit `ref` names (a UsageError when git or the ref is missing)."""
    _, run = _git_runner(root)
    return run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def env_vars_named(root: Path, commit: str) -> list[str]:
    """The names in `env_var('NAME')` calls anywhere in the project's files at `commit` (its
    SQL, YAML and macros), read from git without a checkout."""
    git, _ = _git_runner(root)
    pattern = r"env_var\(\s*['\"][A-Za-z0-9_]+"
    done = subprocess.run(
        [git, "grep", "-h", "-o", "-E", pattern, commit, "--", "."], cwd=root, capture_output=True, text=True
    )
    return sorted({line.rsplit("'", 1)[-1].rsplit('"', 1)[-1] for line in done.stdout.splitlines()})


@contextmanager
def git_worktree(root: Path, ref: str) -> Iterator[Path]:
    """A temporary, detached `git worktree` of `ref` holding the project at `root` (which may sit
    in a sub-folder of the repository). Removed on exit."""
    git, run = _git_runner(root)
    top = Path(run("rev-parse", "--show-toplevel")).resolve()
    run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="martsmith-review-"))
    tree = tmp / "base"
    run("worktree", "add", "--detach", "--quiet", str(tree), ref)
    try:
        yield tree / root.resolve().relative_to(top)
    finally:
        subprocess.run([git, "worktree", "remove", "--force", str(tree)], cwd=root, capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([git, "worktree", "prune"], cwd=root, capture_output=True, check=False)
