"""Conventions detected from a project's files, and pinned under `vars: martsmith:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from martsmith.context.conventions import detect_conventions
from martsmith.context.project import Project
from martsmith.errors import ProjectError


def _project(root: Path, files: dict[str, str], config: dict | None = None) -> Project:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return Project(
        root=root, name="p", profile_name="p", profiles_dir=root, target_name="dev", target={}, config=config or {}
    )


def test_dbt_labs_layout(tmp_path):
    found = detect_conventions(
        _project(
            tmp_path,
            {
                "models/staging/shop/stg_shop__orders.sql": "select 1",
                "models/staging/shop/stg_shop__orders.yml": "models:\n  - name: stg_shop__orders\n",
                "models/marts/finance/fct_orders.sql": "select 1",
                "models/marts/finance/dim_customers.sql": "select 1",
                "models/marts/finance/fct_orders.yml": "models:\n  - name: fct_orders\n    data_tests: [x]\n",
            },
            {"models": {"p": {"staging": {"+materialized": "view"}, "marts": {"+materialized": "table"}}}},
        )
    )
    assert (found.staging_dir, found.marts_dir, found.yaml_layout, found.tests_key) == (
        "models/staging",
        "models/marts",
        "per_model",
        "data_tests",
    )
    assert found.materialized == {"models/staging": "view", "models/marts": "table"}
    assert found.sqlfluff.config is None


def test_flat_project_with_folder_files_and_a_prefix(tmp_path):
    found = detect_conventions(
        _project(
            tmp_path,
            {
                "models/rpt_orders.sql": "select 1",
                "models/rpt_customers.sql": "select 1",
                "models/_models__models.yml": "models:\n  - name: rpt_orders\n    tests: [x]\n  - name: rpt_customers\n",
                ".sqlfluff": "[sqlfluff]\ndialect = ansi\n",
            },
        )
    )
    assert (found.marts_dir, found.staging_dir, found.yaml_layout, found.tests_key, found.mart_prefix) == (
        "models",
        "models",
        "per_folder",
        "tests",
        "rpt_",
    )
    assert found.yaml_file == "_{folder}__models.yml"
    assert str(found.properties_path(tmp_path / "models" / "x.sql")) == str(tmp_path / "models/_models__models.yml")
    assert found.sqlfluff.advice and "library_path = dbt_packages/martsmith" in found.sqlfluff.advice


def test_pins_win_over_what_is_detected(tmp_path):
    pins = {"vars": {"martsmith": {"marts_dir": "models/reporting", "tests_key": "tests", "yaml_layout": "per_folder"}}}
    found = detect_conventions(_project(tmp_path, {"models/marts/a.sql": "select 1"}, pins))
    assert (found.marts_dir, found.tests_key, found.yaml_layout) == ("models/reporting", "tests", "per_folder")
    assert found.origin["marts_dir"].startswith("pinned")


@pytest.mark.parametrize(
    ("pins", "words"),
    [({"marts": "x"}, "unknown key 'marts'"), ({"tests_key": "test"}, "tests_key"), ({"marts_dir": "../x"}, "inside")],
)
def test_a_bad_pin_is_a_project_error(tmp_path, pins, words):
    with pytest.raises(ProjectError, match=words):
        detect_conventions(_project(tmp_path, {}, {"vars": {"martsmith": pins}}))
