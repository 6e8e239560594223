"""martsmith passes dbt `--target` only for a target dbt would not pick by itself: the flag is
part of dbt's partial-parse state, so a `--target dev` in-process beside a plain `dbt build` by
the user made each of them re-parse the whole project (found by bench/postgres_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project


class _Runner:
    seen: list[list[str]] = []

    def __init__(self, manifest=None, callbacks=None) -> None:
        pass

    def invoke(self, args: list[str]):
        _Runner.seen.append(args)
        return type("Res", (), {"result": None, "exception": None, "success": True})()


def _project(root: Path, default: str | None, target: str | None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    outputs = {t: {"type": "duckdb", "path": f"{t}.duckdb"} for t in ("dev", "ci")}
    profile = {"outputs": outputs} | ({"target": default} if default else {})
    (root / "profiles.yml").write_text(yaml.safe_dump({"p": profile}))
    return load_project(root, target=target)


@pytest.fixture
def invoked(monkeypatch):
    import dbt.cli.main  # the fake stands in for dbt's runner

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", _Runner)
    monkeypatch.delenv("DBT_TARGET", raising=False)
    _Runner.seen = []

    def target_flag(project) -> list[str]:
        Dbt(project).invoke(["parse"])
        args = _Runner.seen[-1]
        return args[args.index("--target") : args.index("--target") + 2] if "--target" in args else []

    return target_flag


def test_the_profiles_default_target_is_not_passed(tmp_path, invoked):
    assert invoked(_project(tmp_path, "dev", None)) == []
    assert invoked(_project(tmp_path, "dev", "dev")) == []  # the same one, named


def test_another_target_is_passed(tmp_path, invoked):
    assert invoked(_project(tmp_path, "dev", "ci")) == ["--target", "ci"]


def test_a_profile_without_a_default_gets_the_target_martsmith_chose(tmp_path, invoked):
    # dbt's own fallback is `default`, martsmith's `dev`: say which
    assert invoked(_project(tmp_path, None, None)) == ["--target", "dev"]


def test_dbt_target_in_the_environment_is_what_dbt_picks_too(tmp_path, invoked, monkeypatch):
    monkeypatch.setenv("DBT_TARGET", "ci")
    assert invoked(_project(tmp_path, "dev", None)) == []  # dbt reads DBT_TARGET itself
