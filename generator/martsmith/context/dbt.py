"""Run dbt in-process with dbtRunner (partial parsing on): 5-25x faster than a subprocess after
the first call. dbt is imported here, lazily, and nowhere at module level elsewhere.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from martsmith.context.project import Project
from martsmith.errors import ProjectError, WarehouseError
from martsmith.write.journal import pause_point

# No tracking calls from a tool that may run offline, and no version check against the hub.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str = ""
    failures: int | None = None
    rows: int | None = None
    relation: str | None = None


@dataclass
class DbtResult:
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None
    raw: Any = None

    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("error", "fail", "runtime error")]


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    # dbt-duckdb resolves a relative database path against the process' working directory, as
    # the dbt CLI does when run from the project folder.
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


_LAST_ROOT: list[Path] = []


def import_in_background(adapter_type: str) -> threading.Thread:
    """Import dbt and the adapter's plugin (~2 s) in a daemon thread, for a command that will
    run dbt after planning: the planning (which starts no dbt while the cached manifest is
    fresh) then overlaps the import instead of waiting for it. Only imports: dbt's own state
    (flags, adapters, events) is set up by `Dbt.invoke`, in the calling thread. Start it after
    any fork (a child forked mid-import would inherit the import lock held)."""

    def load() -> None:
        for module in ("dbt.cli.main", f"dbt.adapters.{adapter_type}"):
            try:
                importlib.import_module(module)
            except Exception:  # an install problem: Dbt.invoke reports it where it is used
                return

    thread = threading.Thread(target=load, name="martsmith-import-dbt", daemon=True)
    thread.start()
    return thread


def _release_duckdb_if_project_changed(root: Path) -> None:
    """dbt-duckdb keeps one database environment per process and reuses it while the profile's
    credentials compare equal. Two projects with the same relative `path: shop.duckdb` compare
    equal, so after a change of project the old file would be reused: close it first."""
    if _LAST_ROOT and _LAST_ROOT[0] != root:
        try:
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        except ImportError:  # another adapter: nothing cached this way
            pass
        else:
            env = DuckDBConnectionManager._ENV
            if env is not None:
                try:
                    env.close()
                finally:
                    DuckDBConnectionManager._ENV = None
    _LAST_ROOT[:] = [root]


class Dbt:
    """dbt for one project/target, in this process."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.messages: list[str] = []
        self._profile_target: str | None = None

    def _callback(self, event) -> None:
        if getattr(event.info, "name", "") == "NodeFinished":
            node = getattr(getattr(event.data, "node_info", None), "unique_id", "")
            if node.startswith("model."):  # the model's relation is committed; its tests are next
                pause_point("dbt-model-built")
        level = getattr(event.info, "level", "")
        if level in ("error", "warn"):
            msg = getattr(event.info, "msg", "")
            if msg:
                self.messages.append(str(msg))

    def _default_target(self) -> str | None:
        """The target dbt picks without `--target` (DBT_TARGET, else the profile's `target:`).

        `--target` is passed only for another one: dbt hashes the flag into its partial-parse
        state, so a `--target dev` here and a plain `dbt build` by the user (or the other way
        round) would each throw away the other's parse and re-parse the whole project."""
        if os.environ.get("DBT_TARGET"):
            return os.environ["DBT_TARGET"]
        if self._profile_target is None:
            try:
                profiles = yaml.safe_load((self.project.profiles_dir / "profiles.yml").read_text()) or {}
                self._profile_target = str((profiles.get(self.project.profile_name) or {}).get("target") or "")
            except (OSError, yaml.YAMLError, AttributeError):
                self._profile_target = ""
        return self._profile_target or None

    def invoke(self, args: list[str], *, manifest: Any = None) -> DbtResult:
        """dbt with `args`, in this process. With `manifest` (what `parse()` returned, for the
        project as it is now) dbt starts from it instead of parsing the project again."""
        try:
            from dbt.cli.main import dbtRunner
        except ImportError as exc:  # pragma: no cover - install problem
            raise ProjectError(f"dbt is not installed: {exc}") from exc
        self.messages = []
        full = [*args, "--project-dir", str(self.project.root), "--profiles-dir", str(self.project.profiles_dir)]
        if self.project.target_name != self._default_target():
            full += ["--target", self.project.target_name]
        flags = ["--log-level", "none", "--no-send-anonymous-usage-stats", "--no-use-colors"]
        _release_duckdb_if_project_changed(self.project.root)
        with _cwd(self.project.root):
            res = dbtRunner(manifest=manifest, callbacks=[self._callback]).invoke(flags + full)
        return self._convert(res)

    def _convert(self, res) -> DbtResult:
        nodes: list[NodeResult] = []
        result = res.result
        for r in getattr(result, "results", None) or []:
            node = r.node
            adapter_response = getattr(r, "adapter_response", None) or {}
            rows = adapter_response.get("rows_affected") if isinstance(adapter_response, dict) else None
            nodes.append(
                NodeResult(
                    unique_id=node.unique_id,
                    name=node.name,
                    resource_type=str(node.resource_type),
                    status=str(r.status).lower().split(".")[-1],
                    message=str(r.message or ""),
                    failures=r.failures,
                    rows=rows,
                    relation=getattr(node, "relation_name", None),
                )
            )
        error = None
        if res.exception is not None:
            error = str(res.exception)
            if "lock" in error.lower() and "conflicting" in error.lower():
                raise WarehouseError(
                    f"The warehouse file is locked by another process: {error.splitlines()[0]}",
                    hint="Close the other DuckDB session and try again.",
                )
        elif not res.success:
            failed = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
            error = "; ".join(f"{n.name}: {n.message}" for n in failed) or "\n".join(self.messages)
        return DbtResult(success=bool(res.success), nodes=nodes, error=error, raw=result)

    def parse(self):
        """The project's manifest (dbt parse, partial parsing on)."""
        # The manifest comes back in memory: skip writing manifest.json (partial parsing state is
        # still saved, so a build that follows re-parses only what changed, and a build started
        # from this manifest writes manifest.json when it ends).
        res = self.invoke(["parse", "--no-write-json"])
        if not res.success or res.raw is None:
            raise ProjectError(
                "dbt could not parse the project: " + (res.error or "\n".join(self.messages)),
                hint="Fix the project so that `dbt parse` succeeds, then try again.",
            )
        return res.raw

    def deps(self) -> None:
        res = self.invoke(["deps"])
        if not res.success:
            raise ProjectError("dbt deps failed: " + (res.error or "\n".join(self.messages)))
