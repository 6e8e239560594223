"""The context stage, loaded once per command: the project's manifest (through dbt) and the
catalog of what is built in the warehouse, with the checks every generating command needs first
(the martsmith dbt package installed, something built to build on)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from martsmith.context.catalog import Catalog, build_catalog
from martsmith.context.dbt import Dbt
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import PlanError, ProjectError
from martsmith.scaffold.package import package_path

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

Progress = Callable[[str], None]


@dataclass
class Context:
    project: Project
    dbt: Dbt
    manifest: Manifest
    catalog: Catalog


def ensure_packages(project: Project, dbt: Dbt) -> None:
    """Install packages.yml (local/git, offline) when dbt_packages/ is missing."""
    packages = project.root / "packages.yml"
    if packages.is_file() and not (project.root / "dbt_packages").is_dir():
        dbt.deps()


def require_package(manifest) -> None:
    """Generated code calls this package's macros: the project must install it."""
    if not any(m.package_name == "martsmith" for m in manifest.macros.values()):
        raise ProjectError(
            "The martsmith dbt package is not installed in this project: generated models call "
            "its macros (martsmith.surrogate_key, its generic tests).",
            hint=f"Add it to packages.yml and run `dbt deps`:\n  packages:\n    - local: {package_path()}",
        )


def load_context(project: Project, progress: Progress, *, profile: bool = True, need_package: bool = True) -> Context:
    """The project's manifest and its catalog. `profile=False` skips the per-table statistics
    (row counts, distinct values) for commands that look at one table themselves;
    `need_package=False` for commands that generate nothing."""
    warehouse = Warehouse(project)  # refuses targets it can't read before dbt is even started
    dbt = Dbt(project)
    ensure_packages(project, dbt)
    progress("reading the dbt project")
    manifest = dbt.parse()
    if need_package:
        require_package(manifest)
    progress("reading the warehouse catalog")
    with warehouse as wh:
        catalog = build_catalog(manifest, wh, profile=profile)
    if not catalog.tables:
        hint = "Declare them with `martsmith sources --schema SCHEMA`." if catalog.undeclared else "Load data first."
        raise PlanError("The project has no built sources or models to build on.", hint=hint)
    return Context(project, dbt, manifest, catalog)


__all__ = ["Context", "Progress", "ensure_packages", "load_context", "require_package"]
