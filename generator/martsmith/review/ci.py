"""`martsmith review --init-ci github`: a GitHub Actions workflow, written into the host's
repository, that reviews each pull request and keeps ONE comment up to date.

The workflow checks out the full history (the base ref is parsed in a worktree), installs the
host's requirements (or martsmith), runs the review once writing both the comment
(`review.md`) and the code-scanning annotations (`review.sarif`), uploads the SARIF, then finds
its own comment by the marker the Markdown starts with and edits it, or creates it. The review's
exit code is kept and returned last, so that a failing review still comments.

>>> "<!-- martsmith-review -->" in github_workflow("analytics", "pip install martsmith")
True
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from martsmith.errors import WriteRefused
from martsmith.review.report import MARKER

WORKFLOW_PATH = ".github/workflows/martsmith-review.yml"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "requirements/dev.txt", "requirements/base.txt")
PLACEHOLDER = 'pip install martsmith  # or: pip install "martsmith @ git+<url of martsmith>"'

# `${{ ... }}` is GitHub's expression syntax: the template is plain text, filled by str.replace.
TEMPLATE = """\
# Written by `martsmith review --init-ci github`. On each pull request: review the change against
# its base branch, annotate the lines of the static findings (code scanning, SARIF) and post the
# review as ONE comment, edited on every push (found by its marker, __MARKER__).
# The review builds the change into <schema>__review and reads the base's relations: give the job
# the warehouse credentials your profiles.yml reads (env: below, from the repository's secrets).
name: martsmith review

on:
  pull_request:

permissions:
  contents: read
  pull-requests: write    # the comment
  security-events: write  # the SARIF upload (code scanning)

concurrency:
  group: martsmith-review-${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  review:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: __PROJECT_DIR__
    env:
      DBT_SEND_ANONYMOUS_USAGE_STATS: "false"
      # DBT_PROFILES_DIR: ${{ github.workspace }}/__PREFIX__ci
      # DBT_ENV_SECRET_PASSWORD: ${{ secrets.WAREHOUSE_PASSWORD }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the base branch is parsed from git history

      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"__CACHE__

      - name: Install martsmith and the project's dependencies
        working-directory: .
        run: |
          python -m pip install --upgrade pip
          __INSTALL__

      - name: dbt deps
        run: |
          __DEPS__

      - name: martsmith review
        id: review
        run: |
          set +e
          martsmith review --base origin/${{ github.base_ref }} --format markdown --output review.md \\
            --sarif review.sarif --fail-on error
          echo "exit_code=$?" >> "$GITHUB_OUTPUT"

      # A pull request from a fork gets a read-only token: no upload, no comment; the review still runs.
      - name: Upload the findings to code scanning
        if: always() && hashFiles('__SARIF__') != ''
        continue-on-error: true
        uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: __SARIF__
          category: martsmith-review

      - name: Post or update the review comment
        if: always() && hashFiles('__REPORT__') != ''
        continue-on-error: true
        uses: actions/github-script@v7
        env:
          REPORT: __REPORT__
        with:
          script: |
            const fs = require("fs");
            const marker = "__MARKER__";
            let body = fs.readFileSync(process.env.REPORT, "utf8");
            if (!body.includes(marker)) body = marker + "\\n" + body;
            if (body.length > 65000) body = body.slice(0, 65000) + "\\n\\n… (truncated: see the job's log)";
            const { owner, repo } = context.repo;
            const issue_number = context.issue.number;
            const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });
            const mine = comments.find((c) => c.user.type === "Bot" && c.body.includes(marker));
            if (mine) {
              await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
            } else {
              await github.rest.issues.createComment({ owner, repo, issue_number, body });
            }

      - name: Fail when the review found errors
        if: steps.review.outputs.exit_code != '0'
        run: exit ${{ steps.review.outputs.exit_code }}
"""


@dataclass
class Written:
    path: Path
    project_dir: str  # the project's folder inside the repository ("." at its root)
    install: str


def repository_root(project_root: Path) -> Path:
    """The root of the git repository holding the project (the project's own folder outside git)."""
    git = shutil.which("git")
    if git is not None:
        done = subprocess.run(
            [git, "rev-parse", "--show-toplevel"], cwd=project_root, capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip()).resolve()
    return project_root.resolve()


def install_command(repo: Path) -> str:
    """How the job installs martsmith: the repository's requirements file when it has one (it
    should list martsmith and the dbt adapter), else a `pip install martsmith` to edit."""
    for name in REQUIREMENTS:
        if (repo / name).is_file():
            return f"pip install -r {name}"
    return PLACEHOLDER


def github_workflow(project_dir: str, install: str, *, has_packages: bool = True) -> str:
    """The workflow's text for a project at `project_dir` (relative to the repository's root)."""
    prefix = "" if project_dir in ("", ".") else project_dir.rstrip("/") + "/"
    deps = "dbt deps" if has_packages else "echo 'no packages.yml, nothing to install'"
    # setup-python's pip cache fails the job when no requirements file is there to key it on.
    requirements = install.split()[-1] if install.startswith("pip install -r ") else None
    cache = f"\n          cache: pip\n          cache-dependency-path: {requirements}" if requirements else ""
    return (
        TEMPLATE.replace("__PROJECT_DIR__", project_dir or ".")
        .replace("__PREFIX__", prefix)
        .replace("__CACHE__", cache)
        .replace("__INSTALL__", install)
        .replace("__DEPS__", deps)
        .replace("__SARIF__", prefix + "review.sarif")
        .replace("__REPORT__", prefix + "review.md")
        .replace("__MARKER__", MARKER)
    )


def write_github_workflow(project_root: Path, *, force: bool = False) -> Written:
    """Write the workflow into the repository holding `project_root`; an existing one is kept
    unless `force`."""
    repo = repository_root(project_root)
    path = repo / WORKFLOW_PATH
    if path.exists() and not force:
        raise WriteRefused(
            f"{path} exists.",
            hint="Pass --force to replace it (your edits to it are lost), or edit it by hand.",
        )
    rel = project_root.resolve().relative_to(repo).as_posix()
    project_dir = rel if rel not in ("", ".") else "."
    install = install_command(repo)
    has_packages = any((project_root / n).is_file() for n in ("packages.yml", "dependencies.yml"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(github_workflow(project_dir, install, has_packages=has_packages))
    return Written(path, project_dir, install)
