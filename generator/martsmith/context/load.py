"""The context stage, loaded once per command: the project's manifest (through dbt) and the
catalog of what is built in the warehouse, with the checks every generating command needs first
(the martsmith dbt package installed, something built to build on).

Both are kept in `target/martsmith_context.json` (context/cache.py) and taken from there while
nothing they were made from has changed: then planning — a refusal, a `--dry-run` — starts no
dbt at all, and only a build parses (dbt's own build does, with partial parsing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from martsmith.context import cache
from martsmith.context.catalog import Catalog, build_catalog, built_relations
from martsmith.context.dbt import Dbt
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import PlanError, ProjectError
from martsmith.scaffold.package import package_path

Progress = Callable[[str], None]


@dataclass
class Context:
    project: Project
    dbt: Dbt
    # dbt's Manifest when this command parsed, else its cached `ManifestView`: the same names
    # for everything martsmith reads (nodes, sources, macros, unit_tests).
    manifest: Any
    catalog: Catalog
    parsed: bool = True  # False: the manifest came from the cache, dbt was not started


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


def load_manifest(project: Project, progress: Progress) -> Any:
    """The project's manifest alone (no catalog, no warehouse read): the cached one while the
    project is unchanged, else dbt's parse."""
    dbt = Dbt(project)
    ensure_packages(project, dbt)
    kept = cache.read_cache(project)
    fingerprint = cache.project_fingerprint(project)
    manifest = kept.fresh_manifest(fingerprint)
    if manifest is None:
        progress("reading the dbt project")
        manifest = dbt.parse()
        if fingerprint is not None and cache.project_fingerprint(project) == fingerprint:
            kept.keep_manifest(fingerprint, cache.summarize_manifest(manifest))
            cache.write_cache(project, kept)
    return manifest


# Relations dbt makes while it materializes (`x__dbt_tmp`, `x__dbt_backup`) and those martsmith
# makes while it writes or picks rows: none of them is data anyone loaded.
TRANSIENT_MARKERS = ("__dbt_tmp", "__dbt_backup", "__martsmith_")


def built_by_dbt(manifest, schema: str, names: list[str]) -> dict[str, str]:
    """The relations among `names` (of warehouse schema `schema`) that the project builds
    itself, each with what builds it: 'model', 'seed', 'snapshot' (nodes of the manifest,
    martsmith's generated models among them) or 'temporary' (dbt's and martsmith's temporary
    relations)."""
    built = {rel: uid for rel, uid in built_relations(manifest).items() if rel[0] == schema.lower()}
    kinds = {uid: str(getattr(n.resource_type, "value", n.resource_type)) for uid, n in manifest.nodes.items()}
    out = {}
    for name in names:
        uid = built.get((schema.lower(), name.lower()))
        if uid is not None:
            out[name] = kinds[uid]
        elif any(marker in name.lower() for marker in TRANSIENT_MARKERS):
            out[name] = "temporary"
    return out


def load_context(project: Project, progress: Progress, *, profile: bool = True, need_package: bool = True) -> Context:
    """The project's manifest and its catalog, from the cache when fresh (context/cache.py).
    `profile=False` skips the per-table statistics (row counts, distinct values) for commands
    that look at one table themselves; `need_package=False` for commands that generate nothing."""
    warehouse = Warehouse(project)  # refuses targets it can't read before dbt is even started
    dbt = Dbt(project)
    ensure_packages(project, dbt)
    kept = cache.read_cache(project)
    fingerprint = cache.project_fingerprint(project)
    manifest: Any = kept.fresh_manifest(fingerprint)
    parsed = manifest is None
    changed = False
    if parsed:
        progress("reading the dbt project")
        manifest = dbt.parse()
        # A file edited while dbt parsed: the manifest may predate it, so it is not kept.
        if fingerprint is not None and cache.project_fingerprint(project) == fingerprint:
            kept.keep_manifest(fingerprint, cache.summarize_manifest(manifest))
            changed = True
    if need_package:
        require_package(manifest)
    stamp = cache.warehouse_stamp(project)
    catalog = kept.fresh_catalog(fingerprint, stamp, profile=profile)
    if catalog is None:
        progress("reading the warehouse catalog")
        with warehouse as wh:
            catalog = build_catalog(manifest, wh, profile=profile)
        # Kept only if the warehouse did not change while it was read, under the manifest kept.
        if stamp is not None and stamp == cache.warehouse_stamp(project) and kept.fingerprint == fingerprint:
            kept.keep_catalog(stamp, catalog, profile=profile)
            changed = True
    if changed:
        cache.write_cache(project, kept)
    if not catalog.tables:
        hint = "Declare them with `martsmith sources --schema SCHEMA`." if catalog.undeclared else "Load data first."
        raise PlanError("The project has no built sources or models to build on.", hint=hint)
    return Context(project, dbt, manifest, catalog, parsed=parsed)


__all__ = [
    "Context",
    "Progress",
    "built_by_dbt",
    "ensure_packages",
    "load_context",
    "load_manifest",
    "require_package",
]
