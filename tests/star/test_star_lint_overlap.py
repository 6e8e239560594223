"""sqlfluff finishes while dbt builds the star schema: a fix it makes is built again, a violation
it can't fix undoes the whole build."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from martsmith import cli
from martsmith.pipelines import star as build
from tests.star.test_star_command import _tree

pytestmark = pytest.mark.integration

DESCRIPTION = "order lines as the fact with products"


def _run(project: Path):
    return CliRunner().invoke(cli.main, ["star", DESCRIPTION, "--yes", "--project-dir", str(project)])


def _spoil(monkeypatch, change):
    original = build.render_star

    def render(star):
        files = original(star)
        path = next(p for p in sorted(files) if p.endswith(".sql") and p.startswith("marts/"))
        files[path] = change(files[path])
        return files

    monkeypatch.setattr(build, "render_star", render)


def test_a_lint_fix_is_built_again(sample_project, monkeypatch):
    # An upper-case keyword: sqlfluff fixes it; the fixed file is what ends up written and built.
    _spoil(monkeypatch, lambda sql: sql.replace("select * from final", "SELECT * from final"))
    result = _run(sample_project)
    assert result.exit_code == 0, result.output
    written = [p for p in (sample_project / "models" / "marts").rglob("*.sql")]
    assert written and not any("SELECT" in p.read_text() for p in written)


def test_a_violation_sqlfluff_cannot_fix_undoes_the_build(sample_project, monkeypatch):
    before = _tree(sample_project)
    _spoil(monkeypatch, lambda sql: "-- " + "x" * 120 + "\n" + sql)
    result = _run(sample_project)
    assert result.exit_code == 6, result.output
    assert "sqlfluff violations remain" in result.output and "LT05" in result.output
    assert _tree(sample_project) == before
