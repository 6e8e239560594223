"""martsmith in a host project of another style than the one `martsmith init` writes.

tests/host/project is a small jaffle-shop-like project: a flat `models/` folder documented by one
`schema.yml`, tests under `tests:`, seeds read with `ref()`, its own `stg_` models, the marts
`customers` and `orders` built on them, and a `.sqlfluff` on `dialect = ansi` with the one line
that loads martsmith's macros for sqlfluff. `model`, `tests` and `unit-test` write into it
following its conventions; every file they write passes the host's own `sqlfluff lint`, and the
host's own `dbt build` stays green.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.scaffold.package import package_path

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent / "project"


def _dbt(root: Path, *args: str) -> None:
    # dbt in-process, as martsmith runs it (context/dbt.py), on the host's own profile.
    from martsmith.context.dbt import Dbt
    from martsmith.context.project import load_project

    result = Dbt(load_project(root, root)).invoke(list(args))
    assert result.success, f"dbt {' '.join(args)}: {result.error}"


def _cli(root: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--project-dir", str(root), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _host_lint(root: Path, files: list[str]) -> dict[str, list[str]]:
    """What the host's own sqlfluff says about `files`: its .sqlfluff, sqlfluff's own jinja
    templater (no martsmith code), martsmith's macros through the library_path line."""
    from sqlfluff.core import FluffConfig, Linter

    linter = Linter(config=FluffConfig.from_path(str(root)))
    out = {}
    for f in files:
        result = linter.lint_string((root / f).read_text(), fname=f)
        out[f] = [f"{v.rule_code()}: {v.desc()}" for v in result.violations]
    return out


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("host") / "jaffle"
    shutil.copytree(FIXTURE, root)
    (root / "packages.yml").write_text(f"packages:\n  - local: {package_path()}\n")
    _dbt(root, "deps")
    _dbt(root, "build")
    return root


def test_conventions_are_the_hosts(host):
    found = _cli(host, "conventions")
    assert {k: found[k] for k in ("marts_dir", "staging_dir", "yaml_layout", "yaml_file", "tests_key")} == {
        "marts_dir": "models",
        "staging_dir": "models",
        "yaml_layout": "per_folder",
        "yaml_file": "schema.yml",
        "tests_key": "tests",
    }
    assert found["sqlfluff"] == {
        "config": ".sqlfluff",
        "templater": "jinja",
        "dialect": "ansi",
        "stand_ins": True,
        "advice": None,
    }


def test_model_tests_and_unit_test_write_as_the_host_does(host):
    before = (host / "models" / "schema.yml").read_text()

    made = _cli(host, "model", "number of orders per status", "--yes")
    assert made["files"] == ["models/order_count_by_status.sql", "models/schema.yml"]
    schema_text = (host / "models" / "schema.yml").read_text()
    assert schema_text.startswith(before)  # the host's file, byte for byte, then the new entry
    assert "data_tests" not in schema_text
    entry = next(m for m in yaml.safe_load(schema_text)["models"] if m["name"] == "order_count_by_status")
    assert entry["tests"] == ["martsmith.not_empty"]
    assert schema_text[len(before) :].startswith("\n  - name: order_count_by_status\n")  # spaced as its others

    tested = _cli(host, "tests", "stg_payments", "--yes")
    assert tested["files"] == ["models/schema.yml"]
    unit = _cli(host, "unit-test", "order_count_by_status", "--yes")
    assert unit["file"] == "models/schema.yml"
    final = (host / "models" / "schema.yml").read_text()
    assert "data_tests" not in final and "unit_tests:" in final
    assert not (host / "models" / "marts").exists()

    assert _host_lint(host, ["models/order_count_by_status.sql"]) == {"models/order_count_by_status.sql": []}
    _dbt(host, "build")
