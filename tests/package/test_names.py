"""The package's own seeds and models cannot collide with a host's: every name is prefixed, so a
host with a `customers` model gets no duplicate-name warning from the disabled example seed."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_package_seed_and_model_is_prefixed():
    names = [
        p.stem
        for folder in ("seeds", "models")
        for p in (REPO_ROOT / folder).rglob("*")
        if p.suffix in (".csv", ".sql")
    ]
    assert names
    assert [n for n in names if not n.startswith("martsmith_")] == []


def test_the_dbt_version_is_bounded_both_ways():
    required = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["require-dbt-version"]
    assert any(r.startswith(">=") for r in required) and any(r.startswith("<") for r in required)
