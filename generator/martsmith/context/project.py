"""Where the dbt project is, which profile/target it uses, and where its warehouse lives."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from martsmith.errors import ProjectError


@dataclass
class Project:
    """A dbt project on disk and the target it runs against."""

    root: Path
    name: str
    profile_name: str
    profiles_dir: Path
    target_name: str
    target: dict = field(repr=False)
    model_paths: list[str] = field(default_factory=lambda: ["models"])
    config: dict = field(default_factory=dict, repr=False)

    @property
    def adapter_type(self) -> str:
        return str(self.target.get("type", ""))

    @property
    def duckdb_path(self) -> Path | None:
        """The DuckDB database file of the target, resolved against the project root."""
        if self.adapter_type != "duckdb":
            return None
        path = str(self.target.get("path", ":memory:"))
        if path == ":memory:" or path.startswith("md:"):
            return None
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.root / p)

    @property
    def schema(self) -> str:
        return str(self.target.get("schema", "main"))

    @property
    def models_dir(self) -> Path:
        return self.root / self.model_paths[0]


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` that holds a dbt_project.yml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "dbt_project.yml").is_file():
            return d
    raise ProjectError(
        f"No dbt project found at or above {here}.",
        hint="Run martsmith inside a dbt project, pass --project-dir, or create one with "
        "`martsmith init DIR --sample`.",
    )


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ProjectError(f"{path}{where} is not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ProjectError(f"{path} should hold a YAML mapping.")
    return data


def _render_env(value):
    """Render `{{ env_var('X', 'default') }}` in profile values, as dbt does."""
    if isinstance(value, dict):
        return {k: _render_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_env(v) for v in value]
    if isinstance(value, str) and "{{" in value:
        import jinja2

        def env_var(name: str, default: str | None = None) -> str:
            if name in os.environ:
                return os.environ[name]
            if default is None:
                raise ProjectError(f"The profile uses env_var('{name}'), which is not set.")
            return default

        return jinja2.Environment().from_string(value).render(env_var=env_var)
    return value


def load_project(
    project_dir: Path | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
) -> Project:
    """Read dbt_project.yml and the matching profile (profiles.yml beside the project, then
    $DBT_PROFILES_DIR, then ~/.dbt)."""
    root = Path(project_dir).resolve() if project_dir else find_project_root()
    if not (root / "dbt_project.yml").is_file():
        raise ProjectError(f"{root} has no dbt_project.yml.", hint="Pass the folder of a dbt project.")
    config = _load_yaml(root / "dbt_project.yml")
    name = config.get("name")
    profile_name = config.get("profile") or name
    if not name:
        raise ProjectError(f"{root / 'dbt_project.yml'} has no 'name'.")

    candidates = [Path(profiles_dir)] if profiles_dir else []
    if os.environ.get("DBT_PROFILES_DIR"):
        candidates.append(Path(os.environ["DBT_PROFILES_DIR"]))
    candidates += [root, Path.home() / ".dbt"]
    profiles_path = next((d / "profiles.yml" for d in candidates if (d / "profiles.yml").is_file()), None)
    if profiles_path is None:
        raise ProjectError(
            f"No profiles.yml found for profile '{profile_name}' (looked in "
            + ", ".join(str(d) for d in candidates)
            + ").",
            hint="Create one (see profiles.example.yml) or pass --profiles-dir.",
        )
    profiles = _load_yaml(profiles_path)
    profile = profiles.get(profile_name)
    if not isinstance(profile, dict) or "outputs" not in profile:
        raise ProjectError(
            f"{profiles_path} has no profile '{profile_name}' with outputs.",
            hint=f"Add a '{profile_name}:' entry with a target, as in profiles.example.yml.",
        )
    target_name = target or os.environ.get("DBT_TARGET") or profile.get("target", "dev")
    outputs = profile["outputs"] or {}
    if target_name not in outputs:
        raise ProjectError(f"Profile '{profile_name}' has no target '{target_name}' (has: {', '.join(outputs)}).")
    return Project(
        root=root,
        name=str(name),
        profile_name=str(profile_name),
        profiles_dir=profiles_path.parent,
        target_name=str(target_name),
        target=_render_env(outputs[target_name]),
        model_paths=list(config.get("model-paths") or ["models"]),
        config=config,
    )
