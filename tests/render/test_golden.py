"""Rendered SQL and YAML against golden files: input spec and expected output side by side.

Set MARTSMITH_UPDATE_GOLDEN=1 to rewrite the expected files after an intended change.
"""

from pathlib import Path

import pytest

from martsmith.render.properties import render_properties
from martsmith.render.sql import render_sql
from martsmith.spec import ModelSpec
from tests.golden import assert_golden_tree

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.json")))
def test_render_matches_golden(case):
    spec = ModelSpec.model_validate_json((CASES / f"{case}.json").read_text())
    rendered = {f"{case}.sql": render_sql(spec), f"{case}.yml": render_properties(spec)}
    assert_golden_tree(CASES, rendered, owns_folder=False)


def test_golden_sql_is_lint_clean_after_fix(tmp_path):
    # The renderer's layout is close to what sqlfluff wants: at most layout fixes, never a
    # remaining violation, on the default configuration.
    from martsmith.validate.lint import lint_sql

    for case in sorted(CASES.glob("*.json")):
        spec = ModelSpec.model_validate_json(case.read_text())
        result = lint_sql(render_sql(spec), tmp_path, fname=f"{spec.name}.sql")
        assert result.findings == [], (case.name, result.findings)
