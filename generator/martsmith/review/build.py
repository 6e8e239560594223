"""The review's dbt runs, isolated from the base: the head parsed and the changed models and
their children built and tested into a schema of their own (`<schema>__review`), with every
unchanged parent deferred to the base's relations (`--defer --state`). Nothing the base built
is ever written: the review's own target folder, profile and schemas are dropped afterwards.

The base manifest comes from a directory of dbt artifacts, or from `dbt parse` of a git ref in
a temporary worktree (the project's own packages linked in, so it parses offline).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from martsmith.context.dbt import Dbt, DbtResult, NodeResult
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import ProjectError
from martsmith.review.changes import Manifest, commit_of, env_vars_named, git_worktree, read_manifest

REVIEW_SUFFIX = "__review"
FAILURE_EXAMPLES = 3
PARTIAL_PARSE = "partial_parse.msgpack"
BASES_KEPT = 3  # base manifests cached in target/martsmith_review/base/


def _base_key(project: Project, base: Project, commit: str) -> str:
    """What the base's manifest depends on besides its commit: dbt's version, the profile's
    target as the base parse sees it, the installed packages, the project's `DBT_*` variables
    and the environment variables its files name in `env_var()`."""
    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256()
    packages = project.root / "dbt_packages"
    package_files = sorted(packages.glob("*/dbt_project.yml")) if packages.is_dir() else []
    env_names = set(env_vars_named(project.root, commit)) | {k for k in os.environ if k.startswith("DBT_")}
    parts = [
        commit,
        dbt_version,
        yaml.safe_dump(base.target, sort_keys=True),
        *(f"{p.parent.name}:{p.read_text()}" for p in package_files),
        *(f"{k}={os.environ.get(k)}" for k in sorted(env_names)),
    ]
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:20]


def review_schema(project: Project) -> str:
    """The schema the review builds into: the target's, suffixed (custom schemas follow it,
    as dbt's generate_schema_name prefixes them with the target schema)."""
    return project.schema + REVIEW_SUFFIX


def _with_profile(
    project: Project,
    folder: Path,
    *,
    root: Path | None = None,
    schema: str | None = None,
    absolute_path: bool = True,
) -> Project:
    """`project` run through a profiles.yml of its own in `folder`: the DuckDB path made
    absolute (the project may be run from another folder) and the schema replaced.

    The base's parse keeps the target exactly as the project's profile has it
    (`absolute_path=False`): dbt's partial parsing reuses a saved parse only under the same
    connection settings, and a parse opens no connection."""
    target: dict[str, Any] = dict(project.target)
    if absolute_path and project.duckdb_path is not None:
        target["path"] = str(project.duckdb_path)
    if schema is not None:
        target["schema"] = schema
    folder.mkdir(parents=True, exist_ok=True)
    profile = {project.profile_name: {"target": project.target_name, "outputs": {project.target_name: target}}}
    (folder / "profiles.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dataclasses.replace(project, root=root or project.root, profiles_dir=folder, target=target)


def _target_folder(project: Project) -> str:
    """The project's own target folder, where dbt keeps its parse state."""
    return os.environ.get("DBT_TARGET_PATH") or str(project.config.get("target-path") or "target")


def _parse(dbt: Dbt, target_path: Path) -> Any:
    """`dbt parse` into `target_path`; dbt's Manifest (in memory) back."""
    res = dbt.invoke(["parse", "--target-path", str(target_path)])
    if not res.success:
        raise ProjectError(
            f"dbt could not parse {dbt.project.root}: " + (res.error or "\n".join(dbt.messages)),
            hint="Fix the project so that `dbt parse` succeeds, then review again.",
        )
    return res.raw


class _ParsedDbt(Dbt):
    """dbt for the head: a build after the head's parse starts from that parse's Manifest
    (dbtRunner(manifest=...)), so it does not parse the project a second time."""

    def __init__(self, project: Project) -> None:
        super().__init__(project)
        self.manifest: Any = None

    def invoke(self, args: list[str], *, manifest: Any = None) -> DbtResult:
        if self.manifest is None or args[0] == "parse":
            return super().invoke(args, manifest=manifest)
        manifest, self.manifest = self.manifest, None  # a build changes it: used once
        return super().invoke(args, manifest=manifest)


@dataclass
class FailedTest:
    name: str
    model: str | None
    message: str
    failures: int | None
    examples: list[dict] = field(default_factory=list)


@dataclass
class BuildResult:
    ran: bool
    success: bool = True
    models_built: list[str] = field(default_factory=list)
    models_failed: dict[str, str] = field(default_factory=dict)  # name -> message
    tests_passed: int = 0
    tests_failed: list[FailedTest] = field(default_factory=list)
    tests_warned: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str | None = None


class ReviewRun:
    """The dbt side of one review: its temporary folder, the base state and the head build."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.tmp = Path(tempfile.mkdtemp(prefix="martsmith-review-"))
        self.schema = review_schema(project)
        self.target_path = project.root / "target" / "martsmith_review"
        self.head_project = _with_profile(project, self.tmp / "head_profile", schema=self.schema)
        self.dbt = _ParsedDbt(self.head_project)
        self.state_dir = self.tmp / "state"
        self.base_cache = self.target_path / "base"
        self.base_cached = False  # the base's manifest came from the cache (no dbt parse)
        self.project_target = project.root / _target_folder(project)
        self._schemas_before: set[str] = set()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the two manifests ---------------------------------------------------------------------

    def base_from_ref(self, ref: str) -> Manifest:
        """The base's manifest at `ref`: from the review's cache when this commit was parsed
        before with the same dbt, profile, packages and environment, else `dbt parse` in a
        temporary worktree (partial parsing seeded from the project's own parse state, so only
        the files that differ are parsed again). Kept as the state the build defers to."""
        commit = commit_of(self.project.root, ref)
        base = _with_profile(self.project, self.tmp / "base_profile", absolute_path=False)
        cached = self.base_cache / _base_key(self.project, base, commit) / "manifest.json"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if cached.is_file():
            shutil.copy(cached, self.state_dir / "manifest.json")
            self.base_cached = True
            return read_manifest(self.state_dir / "manifest.json")
        with git_worktree(self.project.root, commit) as tree:
            if not (tree / "dbt_project.yml").is_file():
                raise ProjectError(f"The project did not exist at {ref} (no {tree.name}/dbt_project.yml there).")
            packages = self.project.root / "dbt_packages"
            if packages.is_dir() and not (tree / "dbt_packages").exists():
                (tree / "dbt_packages").symlink_to(packages.resolve(), target_is_directory=True)
            seed = self._parse_seed()
            if seed is None:
                # A fresh checkout: parse the working tree as the project's own dbt would (its
                # target folder, its profile). That parse seeds the base's, which then reads only
                # the files the change touched, and it is the one the provenance check reuses.
                _parse(Dbt(self.project), self.project_target)
                seed = self._parse_seed()
            if seed is not None:
                (tree / "target").mkdir(parents=True, exist_ok=True)
                shutil.copy(seed, tree / "target" / PARTIAL_PARSE)
            _parse(Dbt(dataclasses.replace(base, root=tree)), tree / "target")
            shutil.copy(tree / "target" / "manifest.json", self.state_dir / "manifest.json")
            self._remember_base(cached.parent, tree / "target")
        return read_manifest(self.state_dir / "manifest.json")

    def _parse_seed(self) -> Path | None:
        """The newest saved parse state made with the project's own profile: the project's
        (dbt's partial_parse.msgpack of its last run) or the last base this review parsed.
        dbt checks that it fits (same dbt, profile, vars, dbt_project.yml) and parses in full
        when it does not."""
        candidates = [p for p in (self.project_target / PARTIAL_PARSE, self.base_cache / PARTIAL_PARSE) if p.is_file()]
        return max(candidates, key=lambda p: p.stat().st_mtime, default=None)

    def _remember_base(self, folder: Path, target: Path) -> None:
        """Cache the base's manifest (and its parse state, the seed of the next base's parse);
        keep the newest few bases."""
        try:
            self.base_cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".new-", dir=self.base_cache))
            shutil.copy(target / "manifest.json", staging / "manifest.json")
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
            if (target / PARTIAL_PARSE).is_file():
                shutil.copy(target / PARTIAL_PARSE, self.base_cache / (PARTIAL_PARSE + ".new"))
                (self.base_cache / (PARTIAL_PARSE + ".new")).replace(self.base_cache / PARTIAL_PARSE)
            kept = sorted(
                (d for d in self.base_cache.iterdir() if d.is_dir() and not d.name.startswith(".")),
                key=lambda d: d.stat().st_mtime,
                reverse=True,
            )
            for old in kept[BASES_KEPT:]:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # a cache: a review that cannot write it is only slower next time
            pass

    def base_from_state(self, folder: Path) -> Manifest:
        manifest = read_manifest(folder / "manifest.json")
        self.state_dir = folder
        return manifest

    def head(self) -> Manifest:
        """The working tree parsed for the review's schema (its own target folder, so the
        project's partial-parse state is left alone)."""
        self.dbt.manifest = _parse(self.dbt, self.target_path)
        manifest = read_manifest(self.target_path / "manifest.json")
        for model in manifest.models.values():
            path = self.project.root / model.path
            if path.is_file():  # dbt strips the file's trailing whitespace; rules and diffs read it as written
                model.raw_code = path.read_text()
        return manifest

    # -- the build -----------------------------------------------------------------------------

    def build(self, models: list[str]) -> BuildResult:
        """Build and test `models` and their children into the review schema, unchanged parents
        read from the base (deferred). Failing tests keep their rows (--store-failures, in the
        review's own audit schema) so that a few can be shown."""
        if not models:
            return BuildResult(ran=False)
        with Warehouse(self.project) as wh:
            self._schemas_before = {r[0] for r in wh.query("select schema_name from information_schema.schemata")}
        args = ["build", "--select", *[f"{m}+" for m in models], "--target-path", str(self.target_path)]
        args += ["--store-failures"]
        if (self.state_dir / "manifest.json").is_file():
            args += ["--defer", "--state", str(self.state_dir)]
        res = self.dbt.invoke(args)
        out = BuildResult(ran=True, success=res.success, error=None if res.nodes else res.error)
        for node in res.nodes:
            if node.resource_type == "model":
                if node.status == "success":
                    out.models_built.append(node.name)
                elif node.status in ("skipped",):
                    out.skipped.append(node.name)
                else:
                    out.models_failed[node.name] = node.message
            elif node.resource_type in ("test", "unit_test"):
                if node.status == "pass":
                    out.tests_passed += 1
                elif node.status == "warn":
                    out.tests_warned += 1
                elif node.status == "skipped":
                    out.skipped.append(node.name)
                else:
                    out.tests_failed.append(self._failed(node, res.raw))
        return out

    def _failed(self, node: NodeResult, raw: Any) -> FailedTest:
        model = None
        for r in getattr(raw, "results", None) or []:
            if r.node.unique_id == node.unique_id:
                model = getattr(r.node, "attached_node", None)
        examples: list[dict] = []
        if node.relation:
            try:
                with Warehouse(self.project) as wh:
                    examples = wh.query_dicts(f"select * from {node.relation} limit {FAILURE_EXAMPLES}")
            except Exception:  # noqa: BLE001 - examples are a courtesy; the failure is reported anyway
                examples = []
        return FailedTest(node.name, model.split(".")[-1] if model else None, node.message, node.failures, examples)

    def drop_schemas(self) -> list[str]:
        """Drop the schemas this review created (its own, the custom ones under it, the audit
        schema); never one that existed before it started."""
        with Warehouse(self.project) as wh:
            schemas = [r[0] for r in wh.query("select schema_name from information_schema.schemata")]
            ours = [s for s in schemas if s.startswith(self.schema) and s not in self._schemas_before]
            for s in ours:
                wh.execute(f"drop schema if exists {quote(s)} cascade")
        return ours


@contextmanager
def review_run(project: Project) -> Iterator[ReviewRun]:
    run = ReviewRun(project)
    try:
        yield run
    finally:
        run.close()
