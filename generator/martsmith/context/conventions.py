"""How the host project lays out its dbt code, so that what martsmith writes looks like the rest.

Detected from the project's own files (no dbt parse, no warehouse): where each layer's models
live (`models/staging/`, `models/marts/`, or a flat `models/`), how their YAML is laid out (one
file per model, or one `schema.yml` / `_models.yml` per folder), whether tests sit under `tests:`
or `data_tests:`, the name prefixes of marts and staging models, the materializations set in
`dbt_project.yml`, and how the host runs sqlfluff. A host pins any choice in `dbt_project.yml`:

    vars:
      martsmith:
        marts_dir: models          # relative to the project root
        yaml_layout: per_folder    # or per_model
        yaml_file: schema.yml      # the per-folder file's name
        tests_key: tests           # or data_tests
        mart_prefix: mart_         # "" for none

Every writer (model, star, tests, unit-test) asks `Conventions` where a file goes
(`properties_path`) and which key its tests go under.

>>> c = Conventions(marts_dir="models", yaml_layout="per_folder", yaml_file="schema.yml")
>>> str(c.properties_path(Path("/p/models/orders_by_day.sql")))
'/p/models/schema.yml'
>>> str(Conventions().properties_path(Path("/p/models/marts/orders_by_day.sql")))
'/p/models/marts/orders_by_day.yml'
"""

from __future__ import annotations

import configparser
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from martsmith.context.project import Project
from martsmith.errors import ProjectError

MART_FOLDER_NAMES = ("marts", "mart", "reporting", "analytics")
STAGING_FOLDER_NAMES = ("staging", "stage", "stg")
INTERMEDIATE_FOLDER_NAMES = ("intermediate", "int")
# Prefixes a host may give its marts; `dim_`/`fct_` name star-schema roles, not a house style
# for every model, so they are reported but never put on a `model` request's name.
MART_PREFIXES = ("mart_", "rpt_", "agg_", "fct_", "dim_", "obt_")
ROLE_PREFIXES = ("fct_", "dim_")
YAML_LAYOUTS = ("per_model", "per_folder")
TESTS_KEYS = ("data_tests", "tests")
PINNABLE = (
    "staging_dir",
    "intermediate_dir",
    "marts_dir",
    "yaml_layout",
    "yaml_file",
    "tests_key",
    "mart_prefix",
    "staging_prefix",
)
LIBRARY_LINE = "library_path = dbt_packages/martsmith/macros/martsmith_sqlfluff"


@dataclass(frozen=True)
class SqlfluffSetup:
    """How the host runs sqlfluff, as far as its `.sqlfluff` says."""

    config: str | None = None  # the file, relative to the project root; None when there is none
    templater: str = "jinja"
    dialect: str | None = None
    stand_ins: bool = False  # its jinja templater loads martsmith's macros (library_path)

    @property
    def advice(self) -> str | None:
        """The one thing to add so that the host's own sqlfluff reads generated models."""
        if self.config is None or self.templater != "jinja" or self.stand_ins:
            return None
        return f"add `{LIBRARY_LINE}` under [sqlfluff:templater:jinja] in {self.config}"


@dataclass(frozen=True)
class Conventions:
    """Where generated files go and how they are written; every path relative to the project
    root. `origin` says, per choice, whether it was pinned, detected (and from what) or a default."""

    staging_dir: str = "models/staging"
    intermediate_dir: str = "models/intermediate"
    marts_dir: str = "models/marts"
    yaml_layout: str = "per_model"
    yaml_file: str = "schema.yml"
    tests_key: str = "data_tests"
    mart_prefix: str = ""
    staging_prefix: str = "stg_"
    materialized: dict[str, str] = field(default_factory=dict)  # folder -> +materialized
    sqlfluff: SqlfluffSetup = field(default_factory=SqlfluffSetup)
    origin: dict[str, str] = field(default_factory=dict)
    root: Path | None = field(default=None, compare=False)

    def properties_path(self, sql_path: Path) -> Path:
        """The YAML file that documents the model at `sql_path` (when it has none yet)."""
        if self.yaml_layout == "per_folder":
            return sql_path.parent / self.yaml_file.replace("{folder}", sql_path.parent.name)
        return sql_path.with_suffix(".yml")

    def folder(self, layer: str) -> str:
        return {"staging": self.staging_dir, "intermediate": self.intermediate_dir}.get(layer, self.marts_dir)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("root", None)
        out["sqlfluff"]["advice"] = self.sqlfluff.advice
        return out


def detect_conventions(project: Project) -> Conventions:
    """The project's conventions: detected from its files, then what `vars: martsmith:` pins."""
    root = project.root
    models_dir = project.models_dir
    models_rel = _rel(models_dir, root)
    sql = sorted(p for p in models_dir.rglob("*.sql") if _ours(p, models_dir)) if models_dir.is_dir() else []
    origin: dict[str, str] = {}
    values: dict[str, Any] = {}

    staging = [p for p in sql if _layer(p, models_dir) == "staging"]
    intermediate = [p for p in sql if _layer(p, models_dir) == "intermediate"]
    marts = [p for p in sql if _layer(p, models_dir) == "marts"]

    values["marts_dir"], origin["marts_dir"] = _layer_dir(marts, models_dir, root, MART_FOLDER_NAMES, "marts", sql)
    values["staging_dir"], origin["staging_dir"] = _layer_dir(
        staging, models_dir, root, STAGING_FOLDER_NAMES, "staging", sql
    )
    values["intermediate_dir"], origin["intermediate_dir"] = _layer_dir(
        intermediate, models_dir, root, INTERMEDIATE_FOLDER_NAMES, "intermediate", sql
    )
    if values["marts_dir"] == models_rel and not staging:
        values["staging_dir"], origin["staging_dir"] = models_rel, "default: beside the marts (a flat models/)"

    yml = _properties_files(models_dir)
    layout, yaml_file, why = _yaml_layout(yml)
    values["yaml_layout"], values["yaml_file"] = layout, yaml_file
    origin["yaml_layout"] = origin["yaml_file"] = why
    key, why = _tests_key(yml)
    values["tests_key"], origin["tests_key"] = key, why
    prefix, why = _prefix([p.stem for p in marts], MART_PREFIXES)
    values["mart_prefix"], origin["mart_prefix"] = prefix, why
    stg_prefix, why = _prefix([p.stem for p in staging], ("stg_",))
    values["staging_prefix"], origin["staging_prefix"] = stg_prefix or "stg_", why if stg_prefix else "default"

    for key, value in _pins(project).items():
        values[key], origin[key] = value, "pinned in dbt_project.yml (vars: martsmith:)"
    return Conventions(
        **values,
        materialized=_materializations(project),
        sqlfluff=_sqlfluff(root),
        origin=origin,
        root=root,
    )


# --- detection --------------------------------------------------------------------------------


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


def _ours(path: Path, models_dir: Path) -> bool:
    parts = path.relative_to(models_dir).parts
    return not any(p.startswith(".") or p in ("dbt_packages", "target") for p in parts)


def _layer(path: Path, models_dir: Path) -> str:
    folders = {p.lower() for p in path.relative_to(models_dir).parts[:-1]}
    name = path.stem.lower()
    if folders & set(STAGING_FOLDER_NAMES) or name.startswith(("stg_", "stage_")):
        return "staging"
    if folders & set(INTERMEDIATE_FOLDER_NAMES) or name.startswith("int_"):
        return "intermediate"
    return "marts"


def _layer_dir(
    paths: list[Path], models_dir: Path, root: Path, names: tuple[str, ...], default: str, every: list[Path]
) -> tuple[str, str]:
    """The folder of a layer: the layer's named folder (`marts/`, also when its models are in
    sub-folders of it), else the folder most of its models are in, else `models/<layer>`, or a
    flat `models/` when every model of the project is there."""
    roots: Counter[Path] = Counter()
    for p in paths:
        parts = p.relative_to(models_dir).parts[:-1]
        named = next((i for i, part in enumerate(parts) if part.lower() in names), None)
        roots[models_dir.joinpath(*parts[: named + 1]) if named is not None else p.parent] += 1
    if roots:
        folder, count = roots.most_common(1)[0]
        return _rel(folder, root), f"detected: {count} of {len(paths)} {default} models"
    existing = next((models_dir / n for n in names if (models_dir / n).is_dir()), None)
    if existing is not None:
        return _rel(existing, root), f"detected: folder {_rel(existing, root)}/ exists"
    if every and all(p.parent == models_dir for p in every):
        return _rel(models_dir, root), f"detected: all {len(every)} models are in {_rel(models_dir, root)}/"
    return _rel(models_dir / default, root), "default"


def _properties_files(models_dir: Path) -> list[tuple[Path, dict]]:
    out: list[tuple[Path, dict]] = []
    if not models_dir.is_dir():
        return out
    for path in sorted([*models_dir.rglob("*.yml"), *models_dir.rglob("*.yaml")]):
        if not _ours(path, models_dir):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # not ours to judge here: the writers report a broken file they must edit
        if isinstance(data, dict):
            out.append((path, data))
    return out


def _model_names(data: dict) -> list[str]:
    models = data.get("models")
    if not isinstance(models, list):
        return []
    return [str(m["name"]) for m in models if isinstance(m, dict) and m.get("name")]


def _yaml_layout(files: list[tuple[Path, dict]]) -> tuple[str, str, str]:
    per_model = 0
    shared: Counter[str] = Counter()
    for path, data in files:
        names = _model_names(data)
        if not names:
            continue
        if len(names) == 1 and names[0] == path.stem:
            per_model += 1
        else:
            name, folder = path.name, path.parent.name
            if folder and name.startswith(f"_{folder}__"):  # dbt's `_<folder>__models.yml`
                name = "_{folder}__" + name[len(folder) + 3 :]
            shared[name] += 1
    if not per_model and not shared:
        return "per_model", "schema.yml", "default (no model is documented yet)"
    if sum(shared.values()) > per_model:
        name, count = shared.most_common(1)[0]
        return "per_folder", name, f"detected: {count} shared properties files ({name}), {per_model} per model"
    return "per_model", "schema.yml", f"detected: {per_model} files of one model each, {sum(shared.values())} shared"


def count_test_lists(data: Any) -> tuple[int, int]:
    """How many test lists `data` (a properties file) has under `tests:` and under `data_tests:`.

    >>> count_test_lists({"models": [{"name": "m", "columns": [{"name": "id", "tests": ["unique"]}]}]})
    (1, 0)
    """
    counts = {"tests": 0, "data_tests": 0}
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in counts and isinstance(value, list):
                    counts[str(key)] += 1
                if key != "unit_tests":
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return counts["tests"], counts["data_tests"]


def _tests_key(files: list[tuple[Path, dict]]) -> tuple[str, str]:
    old = new = 0
    for _, data in files:
        t, d = count_test_lists(data)
        old, new = old + t, new + d
    if old > new:
        return "tests", f"detected: {old} test lists under tests:, {new} under data_tests:"
    if new:
        return "data_tests", f"detected: {new} test lists under data_tests:, {old} under tests:"
    return "data_tests", "default (dbt >= 1.10 spelling; no tests yet)"


def _prefix(names: list[str], prefixes: tuple[str, ...]) -> tuple[str, str]:
    counts = Counter(next((p for p in prefixes if n.lower().startswith(p)), "") for n in names)
    if not names:
        return "", "default (no such models yet)"
    prefix, count = counts.most_common(1)[0]
    if prefix and count * 2 > len(names):
        return prefix, f"detected: {count} of {len(names)} models"
    return "", f"detected: no prefix shared by most of {len(names)} models"


def _materializations(project: Project) -> dict[str, str]:
    """folder -> `+materialized` configured for it in dbt_project.yml (the project's own models)."""
    config = (project.config.get("models") or {}).get(project.name) or {}
    out: dict[str, str] = {}

    def walk(node: Any, folder: str) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key in ("+materialized", "materialized") and isinstance(value, str):
                out[folder] = value
            elif not str(key).startswith("+") and isinstance(value, dict):
                walk(value, f"{folder}/{key}")

    walk(config, project.model_paths[0])
    return out


def _sqlfluff(root: Path) -> SqlfluffSetup:
    path = root / ".sqlfluff"
    if not path.is_file():
        return SqlfluffSetup()
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return SqlfluffSetup(config=".sqlfluff", templater="?")
    core = parser["sqlfluff"] if parser.has_section("sqlfluff") else {}
    jinja = parser["sqlfluff:templater:jinja"] if parser.has_section("sqlfluff:templater:jinja") else {}
    library = str(core.get("library_path") or jinja.get("library_path") or "")
    return SqlfluffSetup(
        config=".sqlfluff",
        templater=str(core.get("templater", "jinja")).strip(),
        dialect=(str(core.get("dialect")).strip() if core.get("dialect") else None),
        stand_ins="martsmith_sqlfluff" in library,
    )


def _pins(project: Project) -> dict[str, str]:
    vars_ = project.config.get("vars") or {}
    pins = vars_.get("martsmith") if isinstance(vars_, dict) else None
    if pins is None:
        return {}
    where = f"{project.root / 'dbt_project.yml'} (vars: martsmith:)"
    if not isinstance(pins, dict):
        raise ProjectError(f"{where} should be a mapping.", hint="e.g. vars: {martsmith: {marts_dir: models}}")
    out: dict[str, str] = {}
    for key, value in pins.items():
        if key not in PINNABLE:
            raise ProjectError(f"{where} has an unknown key '{key}'.", hint="Known keys: " + ", ".join(PINNABLE) + ".")
        value = "" if value is None else str(value)
        if key == "yaml_layout" and value not in YAML_LAYOUTS:
            raise ProjectError(f"{where}: yaml_layout is '{value}'.", hint="Use per_model or per_folder.")
        if key == "tests_key" and value not in TESTS_KEYS:
            raise ProjectError(f"{where}: tests_key is '{value}'.", hint="Use data_tests or tests.")
        if key.endswith("_dir") and (Path(value).is_absolute() or ".." in Path(value).parts or not value):
            raise ProjectError(f"{where}: {key} must be a folder inside the project, got '{value}'.")
        if key.endswith("_prefix") and not re.fullmatch(r"[a-z0-9_]*", value):
            raise ProjectError(f"{where}: {key} must be lower-case letters, digits and _, got '{value}'.")
        if key == "yaml_file" and not re.fullmatch(r"[A-Za-z0-9_.{}-]+\.ya?ml", value):
            raise ProjectError(f"{where}: yaml_file must be a file name ending in .yml, got '{value}'.")
        out[key] = value.rstrip("/")
    return out


__all__ = [
    "Conventions",
    "LIBRARY_LINE",
    "MART_FOLDER_NAMES",
    "ROLE_PREFIXES",
    "SqlfluffSetup",
    "detect_conventions",
    "count_test_lists",
]
