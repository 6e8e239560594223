"""The review fixture: a git repository holding the sample project with two generated models and
a hand-written child, committed (tag `base`) and built; each test copies it and commits a head."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from martsmith.cli import main

GIT_ENV = {
    "GIT_AUTHOR_NAME": "review",
    "GIT_AUTHOR_EMAIL": "review@example.com",
    "GIT_COMMITTER_NAME": "review",
    "GIT_COMMITTER_EMAIL": "review@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# A hand-written child of the revenue model: it reads total_revenue and customer_country.
REVENUE_SHARE = """with

revenue as (

    select * from {{ ref('total_revenue_by_customer_country') }}

)

select
    customer_country as country_name,
    total_revenue / sum(total_revenue) over () as revenue_share
from revenue
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return done.stdout


def martsmith(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)], catch_exceptions=False)


@pytest.fixture(scope="session")
def review_repo_template(sample_project_template: Path, tmp_path_factory) -> Path:
    """Base: `order_count_by_status` and `total_revenue_by_customer_country` generated offline,
    `revenue_share` written by hand on the second; committed as tag `base` and built."""
    root = tmp_path_factory.mktemp("review") / "shop"
    shutil.copytree(sample_project_template, root, symlinks=True)
    for request in ("number of orders per status", "total revenue by customer country"):
        result = martsmith(root, "model", request, "--yes")
        assert result.exit_code == 0, result.output
    (root / "models/marts/revenue_share.sql").write_text(REVENUE_SHARE)
    (root / "models/marts/revenue_share.yml").write_text(
        "version: 2\nmodels:\n  - name: revenue_share\n    description: 'One row per customer country, its share "
        "of revenue.'\n    columns:\n      - name: country_name\n        data_tests: [unique]\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "tag", "base")
    from martsmith.context.dbt import Dbt
    from martsmith.context.project import load_project

    built = Dbt(load_project(root)).invoke(["build", "--select", "revenue_share"])  # the rest is built
    assert built.success, built.error
    return root


@pytest.fixture
def review_repo(review_repo_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(review_repo_template, root, symlinks=True)
    shutil.rmtree(root / "target", ignore_errors=True)  # its manifest holds the template's paths
    return root


@pytest.fixture
def commit(review_repo: Path) -> Callable[[str], None]:
    def do(message: str) -> None:
        git(review_repo, "add", "-A")
        git(review_repo, "commit", "-qm", message)

    return do
