"""Where the martsmith dbt package lives, so that a scaffolded project can install it with
`packages.yml` (`- local: <path>`) and `dbt deps` works offline.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from martsmith.errors import ProjectError

_MODULE_ROOT = Path(__file__).resolve().parent.parent  # .../martsmith


def package_path() -> Path:
    """The folder holding the package's dbt_project.yml.

    From a checkout or an editable install that is the repository root
    (generator/martsmith/../../dbt_project.yml); from a wheel, the copy bundled at
    martsmith/dbt_package.
    """
    checkout = _MODULE_ROOT.parent.parent
    if (checkout / "dbt_project.yml").is_file() and (checkout / "generator" / "martsmith").is_dir():
        return checkout
    bundled = _MODULE_ROOT / "dbt_package"
    if (bundled / "dbt_project.yml").is_file():
        return bundled
    raise ProjectError(
        f"The martsmith dbt package was not found (looked in {checkout} and {bundled}).",
        hint="Reinstall martsmith (`pip install --force-reinstall martsmith`), or run it from a "
        "checkout of the repository.",
    )


def package_name() -> str:
    """The package's dbt project name (what generated code calls its macros by)."""
    config = yaml.safe_load((package_path() / "dbt_project.yml").read_text()) or {}
    return str(config.get("name", "martsmith"))
