"""The project `martsmith init` scaffolds lints what martsmith writes with its own sqlfluff: the
`.sqlfluff` init writes loads the package's macros for sqlfluff, so a team's pre-commit or CI
`sqlfluff lint` passes on every generated model (9 of 13 `make demo` models failed before)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlfluff.core import FluffConfig, Linter

from martsmith.cli import main


def _cli(root: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--project-dir", str(root), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_generated_model_passes_the_projects_own_sqlfluff(sample_project: Path):
    _cli(sample_project, "model", "total revenue by customer country per month", "--yes")
    _cli(
        sample_project,
        "star",
        "sales star schema: order lines as the fact, with customers, products and dates as dimensions",
        "--yes",
    )
    files = sorted(str(p.relative_to(sample_project)) for p in (sample_project / "models").rglob("*.sql"))
    assert len(files) >= 6  # the model, staging models, dimensions, the date dimension, the fact
    linter = Linter(config=FluffConfig.from_path(str(sample_project)))
    violations = {
        f: [
            f"{v.rule_code()}: {v.desc()}"
            for v in linter.lint_string((sample_project / f).read_text(), fname=f).violations
        ]
        for f in files
    }
    assert violations == {f: [] for f in files}
