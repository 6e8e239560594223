"""The context kept between commands: what martsmith reads of dbt's manifest, and the catalog,
in `target/martsmith_context.json`, each used only while it is provably fresh.

Planning needs the manifest and the catalog, not a dbt parse (seconds of importing dbt and
re-reading the project). So `load_context` keeps both on disk and uses them when nothing they
were made from has changed:

- the **manifest** is keyed by a fingerprint of every input of a dbt parse: the content (sha1,
  not the mtime) of every file under the resource paths of the project and of each installed
  package (models, macros, seeds, tests, snapshots, analyses, docs), their `dbt_project.yml`,
  `packages.yml`/`dependencies.yml`/`package-lock.yml`/`selectors.yml`, the profile's target,
  the value of every environment variable those files name in `env_var(...)` and of every
  `DBT_*` variable, and the versions of martsmith, dbt-core and dbt-duckdb;
- the **catalog** is keyed by that fingerprint and by a stamp of the warehouse file (size and
  mtime of the DuckDB file and its WAL). A stamp read within `RACY_SECONDS` of the file's last
  change is not trusted (a second change in the same clock tick could leave the same mtime), so
  no catalog is kept from it — as git does with "racily clean" index entries.

Reading the manifest through dbt builds dbt's objects; the cache holds only the attributes
martsmith reads (`ManifestView`), so a fresh cache never imports dbt.

>>> view = ManifestView.from_dict({"nodes": {"model.p.m": {"name": "m", "resource_type": "model",
...     "config": {"enabled": True, "meta": {}}, "depends_on": {"nodes": ["source.p.s.t"]}}}})
>>> node = view.nodes["model.p.m"]
>>> (node.name, node.resource_type, node.config.enabled, node.depends_on.nodes)
('m', 'model', True, ['source.p.s.t'])
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from martsmith import __version__
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table
from martsmith.context.project import Project

CACHE_FILE = "martsmith_context.json"
FORMAT = 1  # bump when what is stored changes meaning
RACY_SECONDS = 0.1  # a warehouse file changed this recently may change again with the same stamp

# dbt's resource paths and their defaults (dbt-core 1.11); docs-paths defaults to all of them.
RESOURCE_PATHS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "test-paths": ["tests"],
    "analysis-paths": ["analyses"],
    "snapshot-paths": ["snapshots"],
    "function-paths": ["functions"],
    "docs-paths": [],
}
PROJECT_FILES = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
    ".dbtignore",
)
ENV_VAR = re.compile(rb"""env_var\(\s*['"]([^'"]+)['"]""")


class _Unknown(Exception):
    """The inputs of a parse cannot be listed with certainty (e.g. a templated resource path):
    no cache then."""


def target_dir(project: Project) -> Path:
    """dbt's artifacts folder of the project (`target-path`, default target/)."""
    return project.root / str(project.config.get("target-path") or "target")


# --- fingerprints ---------------------------------------------------------------------------


def _resource_dirs(root: Path, config: dict) -> list[Path]:
    dirs: list[str] = []
    for key, default in RESOURCE_PATHS.items():
        value = config.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Unknown(f"{key} is not a list of folders")
        dirs += value
    if any("{{" in d or "{%" in d for d in dirs):
        raise _Unknown("a resource path is templated")
    return [root / d for d in dict.fromkeys(dirs)]


def _files_under(folder: Path) -> list[Path]:
    """Every file under `folder` (following symlinks, once each), sorted."""
    out: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        out += [Path(dirpath) / f for f in filenames]
    return sorted(out)


def _package_dirs(project: Project) -> list[Path]:
    folder = project.root / str(project.config.get("packages-install-path") or "dbt_packages")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir())


def _hash_project(digest: Any, root: Path, label: str, env_names: set[str]) -> None:
    """Feed the parse inputs of one dbt project folder (the host or a package) to `digest`."""
    config_path = root / "dbt_project.yml"
    try:
        config = yaml.safe_load(config_path.read_bytes()) if config_path.is_file() else {}
    except yaml.YAMLError as exc:
        raise _Unknown(f"{config_path} is not valid YAML") from exc
    files = [root / f for f in PROJECT_FILES if (root / f).is_file()]
    for folder in _resource_dirs(root, config if isinstance(config, dict) else {}):
        if folder.is_dir():
            files += _files_under(folder)
    for path in dict.fromkeys(files):
        data = path.read_bytes()
        env_names.update(m.decode("utf-8", "replace") for m in ENV_VAR.findall(data))
        rel = os.path.relpath(path, root)
        digest.update(f"\0{label}\0{rel}\0{len(data)}\0".encode())
        digest.update(hashlib.sha1(data).digest())


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"martsmith": __version__, "format": str(FORMAT)}
    for dist in ("dbt-core", "dbt-duckdb"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = ""
    return out


def _shapes() -> dict[str, list[str]]:
    """The fields of the catalog's types: a cache written by another shape of them is stale."""
    return {t.__name__: [f.name for f in dataclasses.fields(t)] for t in (Catalog, Table, Column, ForeignKey)}


def project_fingerprint(project: Project) -> str | None:
    """A digest of everything a dbt parse of `project` reads, or None when that cannot be told
    (then nothing is cached)."""
    digest = hashlib.sha1()
    env_names: set[str] = set()
    try:
        _hash_project(digest, project.root, "", env_names)
        for package in _package_dirs(project):
            _hash_project(digest, package, f"package:{package.name}", env_names)
        profiles = project.profiles_dir / "profiles.yml"
        if profiles.is_file():
            digest.update(hashlib.sha1(profiles.read_bytes()).digest())
    except (_Unknown, OSError):
        return None
    env = {n: os.environ.get(n) for n in sorted(env_names | {k for k in os.environ if k.startswith("DBT_")})}
    rest = {
        "profile": project.profile_name,
        "target": project.target_name,
        "target_config": project.target,
        "env": env,
        "versions": _versions(),
        "shapes": _shapes(),
    }
    digest.update(json.dumps(rest, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def warehouse_stamp(project: Project) -> list | None:
    """Size and mtime of the DuckDB file and its WAL, relative to the project; None when the
    stamp is racy (changed less than RACY_SECONDS ago) or there is no file."""
    path = project.duckdb_path
    if path is None:
        return None
    now = time.time_ns()
    stamp: list = [os.path.relpath(path, project.root) if path.is_relative_to(project.root) else str(path)]
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            stamp.append(None)
            continue
        if now - st.st_mtime_ns < RACY_SECONDS * 1e9:
            return None
        stamp.append([st.st_size, st.st_mtime_ns, st.st_ino])
    return stamp if stamp[1] is not None else None


# --- the manifest, as much of it as martsmith reads ------------------------------------------


def _ns(value: Any) -> Any:
    """Dicts become attribute objects, except the mappings keyed by data (columns, meta, kwargs)."""
    if isinstance(value, dict):
        fields = {}
        for k, v in value.items():
            fields[k] = (
                v if k in ("meta", "kwargs") else ({n: _ns(c) for n, c in v.items()} if k == "columns" else _ns(v))
            )
        return SimpleNamespace(**fields)
    return value


@dataclasses.dataclass
class ManifestView:
    """The attributes of dbt's Manifest that martsmith reads, from the cache: `nodes`, `sources`,
    `macros`, `unit_tests`, each unique_id -> an object with the same attribute names."""

    nodes: dict[str, Any]
    sources: dict[str, Any]
    macros: dict[str, Any]
    unit_tests: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict) -> ManifestView:
        parts = {k: {uid: _ns(v) for uid, v in (data.get(k) or {}).items()} for k in ("nodes", "sources", "macros")}
        units = {uid: _ns(v) for uid, v in (data.get("unit_tests") or {}).items()}
        return cls(parts["nodes"], parts["sources"], parts["macros"], units)


def _columns(node: Any) -> dict:
    return {
        name: {"name": c.name, "data_type": c.data_type, "description": c.description}
        for name, c in (getattr(node, "columns", None) or {}).items()
    }


def _config(node: Any) -> dict:
    config = getattr(node, "config", None)
    return {
        "enabled": bool(getattr(config, "enabled", True)),
        "meta": dict(getattr(config, "meta", None) or {}),
        "materialized": getattr(config, "materialized", None),
        "tags": list(getattr(config, "tags", None) or []),
    }


def _common(node: Any) -> dict:
    return {
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": str(getattr(node.resource_type, "value", node.resource_type)),
        "package_name": node.package_name,
        "original_file_path": node.original_file_path,
        "path": getattr(node, "path", None),
        "patch_path": getattr(node, "patch_path", None),
        "fqn": list(getattr(node, "fqn", None) or []),
        "database": getattr(node, "database", None),
        "schema": getattr(node, "schema", None),
        "description": getattr(node, "description", "") or "",
        "tags": list(getattr(node, "tags", None) or []),
        "columns": _columns(node),
        "config": _config(node),
    }


def summarize_manifest(manifest: Any) -> dict:
    """dbt's Manifest -> the JSON the cache keeps (what `ManifestView` gives back)."""
    nodes = {}
    for uid, node in manifest.nodes.items():
        meta = getattr(node, "test_metadata", None)
        nodes[uid] = {
            **_common(node),
            "alias": getattr(node, "alias", None),
            "depends_on": {"nodes": list(getattr(getattr(node, "depends_on", None), "nodes", None) or [])},
            "attached_node": getattr(node, "attached_node", None),
            "column_name": getattr(node, "column_name", None),
            "test_metadata": None
            if meta is None
            else {"name": meta.name, "namespace": getattr(meta, "namespace", None), "kwargs": dict(meta.kwargs or {})},
        }
    sources = {
        uid: {
            **_common(src),
            "source_name": src.source_name,
            "source_description": src.source_description or "",
            "identifier": src.identifier,
        }
        for uid, src in manifest.sources.items()
    }
    macros = {
        uid: {"unique_id": uid, "name": m.name, "package_name": m.package_name} for uid, m in manifest.macros.items()
    }
    units = {
        uid: {
            "unique_id": uid,
            "name": u.name,
            "model": u.model,
            "package_name": u.package_name,
            "original_file_path": u.original_file_path,
        }
        for uid, u in (getattr(manifest, "unit_tests", None) or {}).items()
    }
    return {"nodes": nodes, "sources": sources, "macros": macros, "unit_tests": units}


# --- the catalog ----------------------------------------------------------------------------


def catalog_to_dict(catalog: Catalog) -> dict:
    return {
        "tables": [dataclasses.asdict(t) for t in catalog.tables],
        "foreign_keys": [dataclasses.asdict(f) for f in catalog.foreign_keys],
        "undeclared": [list(u) for u in catalog.undeclared],
        "ancestors": {k: sorted(v) for k, v in catalog.ancestors.items()},
        "aliases": dict(catalog.aliases),
        "staging": dict(catalog.staging),
    }


def catalog_from_dict(data: dict) -> Catalog:
    tables = [Table(**{**t, "columns": [Column(**c) for c in t["columns"]]}) for t in data["tables"]]
    return Catalog(
        tables=tables,
        foreign_keys=[ForeignKey(**f) for f in data["foreign_keys"]],
        undeclared=[(s, n) for s, n in data["undeclared"]],
        ancestors={k: set(v) for k, v in data["ancestors"].items()},
        aliases=dict(data.get("aliases") or {}),
        staging=dict(data.get("staging") or {}),
    )


# --- the file -------------------------------------------------------------------------------


@dataclasses.dataclass
class ContextCache:
    """What `target/martsmith_context.json` holds: the manifest under the project fingerprint it
    was parsed at, and catalogs ("profiled" / "plain") under that and a warehouse stamp."""

    fingerprint: str | None = None
    manifest: dict | None = None
    catalogs: dict[str, dict] = dataclasses.field(default_factory=dict)  # kind -> {stamp, catalog}

    def fresh_manifest(self, fingerprint: str | None) -> ManifestView | None:
        if fingerprint is None or self.fingerprint != fingerprint or self.manifest is None:
            return None
        return ManifestView.from_dict(self.manifest)

    def fresh_catalog(self, fingerprint: str | None, stamp: list | None, *, profile: bool) -> Catalog | None:
        entry = self.catalogs.get("profiled" if profile else "plain")
        if fingerprint is None or stamp is None or self.fingerprint != fingerprint or not entry:
            return None
        if entry.get("stamp") != stamp:
            return None
        return catalog_from_dict(entry["catalog"])

    def keep_manifest(self, fingerprint: str, summary: dict) -> None:
        if self.fingerprint != fingerprint:
            self.catalogs = {}
        self.fingerprint, self.manifest = fingerprint, summary

    def keep_catalog(self, stamp: list, catalog: Catalog, *, profile: bool) -> None:
        self.catalogs["profiled" if profile else "plain"] = {"stamp": stamp, "catalog": catalog_to_dict(catalog)}


def read_cache(project: Project) -> ContextCache:
    """The cache on disk; an empty one if there is none or it cannot be read."""
    try:
        data = json.loads((target_dir(project) / CACHE_FILE).read_text())
        if data.get("format") != FORMAT:
            return ContextCache()
        return ContextCache(data.get("fingerprint"), data.get("manifest"), dict(data.get("catalogs") or {}))
    except (OSError, ValueError, AttributeError):
        return ContextCache()


def write_cache(project: Project, cache: ContextCache) -> None:
    """Written atomically (a temp file renamed), so that a concurrent reader sees the old cache
    or the new one; a cache that cannot be written is only a slower next command."""
    folder = target_dir(project)
    doc = {"format": FORMAT, "fingerprint": cache.fingerprint, "manifest": cache.manifest, "catalogs": cache.catalogs}
    tmp = folder / f".{CACHE_FILE}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, default=str, separators=(",", ":")))
        os.replace(tmp, folder / CACHE_FILE)
    except OSError:
        tmp.unlink(missing_ok=True)


__all__ = [
    "CACHE_FILE",
    "ContextCache",
    "ManifestView",
    "catalog_from_dict",
    "catalog_to_dict",
    "project_fingerprint",
    "read_cache",
    "summarize_manifest",
    "target_dir",
    "warehouse_stamp",
    "write_cache",
]
