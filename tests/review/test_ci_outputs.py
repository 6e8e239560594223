"""What CI and hooks consume: `--format sarif` (and `--sarif FILE`), `--static` (rules and lint
only, no warehouse), `--init-ci github` and the repository's `.pre-commit-hooks.yaml`.

The static review runs on the sample project in a *sub-folder* of a git repository, as a host's
analytics project often is, so that SARIF's paths are checked relative to the repository's root."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import git, martsmith

from martsmith.commands.review import WORKFLOW_PATH as COMMAND_WORKFLOW_PATH
from martsmith.review.build import BuildResult
from martsmith.review.ci import PLACEHOLDER, WORKFLOW_PATH, github_workflow
from martsmith.review.pipeline import Review
from martsmith.review.report import MARKER, sarif
from martsmith.review.rules import RULES, ReviewFinding

REPO = Path(__file__).resolve().parents[2]
# A mart with a hard-coded relation (MS007, an error), a limit without an order by (MS008) and an
# unused CTE (MS009), none of them needing the warehouse.
BAD_MART = """with

unused as (

    select 1 as one

)

select id, status
from raw.orders
limit 10
"""


def check_sarif(doc: dict, findings: list[dict], prefix: str = "") -> None:
    """The structure GitHub code scanning needs, and every finding with a file in it once."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "martsmith" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    expected = sorted(
        (f["rule"], prefix + f["path"], f["line"] or 1, f"{f['model']}: {f['message']}") for f in findings if f["path"]
    )
    got = []
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        level = {"error": "error", "warn": "warning"}[next(r for r in RULES if r.id == result["ruleId"]).severity]
        assert result["level"] == level and result["message"]["text"]
        (location,) = result["locations"]
        artifact, region = location["physicalLocation"]["artifactLocation"], location["physicalLocation"]["region"]
        assert not artifact["uri"].startswith(("/", "file:")) and ".." not in artifact["uri"]
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1
        got.append((result["ruleId"], artifact["uri"], region["startLine"], result["message"]["text"]))
    assert sorted(got) == expected


def test_sarif_has_one_result_per_finding_with_a_file_and_every_rule_documented():
    findings = [
        ReviewFinding("MS007", "m", "m reads raw.orders by name", 9, "models/marts/m.sql"),
        ReviewFinding("MS005", "m", "m has no data tests", None, "models/marts/m.sql"),
        ReviewFinding("MS015", "(project)", "dbt build failed: boom"),  # no file: not an annotation
    ]
    review = Review("main", [], findings, BuildResult(ran=False), "graph LR")
    doc = json.loads(json.dumps(sarif(review, "analytics/")))
    check_sarif(doc, [f.as_dict() for f in findings], "analytics/")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"analytics/models/marts/m.sql"}
    assert [r["level"] for r in doc["runs"][0]["results"]] == ["error", "warning"]


@pytest.fixture
def nested_repo(sample_project_template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(repository, project): the sample project in `analytics/` of a repository, committed."""
    repo = tmp_path / "repo"
    project = repo / "analytics"
    shutil.copytree(sample_project_template, project, symlinks=True)
    shutil.rmtree(project / "target", ignore_errors=True)
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo, project


def test_static_review_reads_no_warehouse_and_its_sarif_paths_are_the_repositorys(nested_repo):
    repo, project = nested_repo
    (project / "models/marts/bad_orders.sql").write_text(BAD_MART)
    database = next(project.glob("*.duckdb"))
    database.rename(project / "moved.duckdb")  # a static review that opened the warehouse would recreate it

    out = repo / "review.sarif"
    cli = martsmith(project, "review", "--static", "--base", "HEAD", "--format", "json", "--sarif", str(out))
    assert cli.exit_code == 6, cli.output  # MS007 is an error, --fail-on error by default
    assert not database.exists()
    data = json.loads(cli.stdout)
    assert data["summary"]["added"] == ["bad_orders"]
    rules = {f["rule"] for f in data["findings"]}
    assert {"MS007", "MS008", "MS009", "MS005", "MS004"} <= rules
    assert not rules & {"MS011", "MS012", "MS013", "MS015"}  # the rules that need a build or the catalog
    assert data["build"]["ran"] is False and data["models"][0]["build"] == "static"
    check_sarif(json.loads(out.read_text()), data["findings"], "analytics/")
    ms007 = next(f for f in data["findings"] if f["rule"] == "MS007")
    assert BAD_MART.splitlines()[ms007["line"] - 1].strip() == "from raw.orders"

    # --format sarif on stdout: the same document.
    cli = martsmith(project, "review", "--static", "--base", "HEAD", "--format", "sarif", "--fail-on", "never")
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout) == json.loads(out.read_text())
    # Nothing changed against the commit: nothing to report, exit 0.
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bad orders")
    cli = martsmith(project, "review", "--static", "--base", "HEAD", "--format", "text")
    assert cli.exit_code == 0, cli.output
    assert "No model changed against HEAD" in cli.stdout


def test_init_ci_github_writes_one_workflow_and_refuses_to_overwrite_it(nested_repo):
    repo, project = nested_repo
    (repo / "requirements.txt").write_text("martsmith\n")
    cli = martsmith(project, "review", "--init-ci", "github")
    assert cli.exit_code == 0, cli.output
    path = repo / WORKFLOW_PATH
    assert f"wrote {path}" in cli.output and "pip install -r requirements.txt" in cli.output
    text = path.read_text()
    workflow = yaml.safe_load(text)
    assert True in workflow and "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["review"]
    assert job["defaults"]["run"]["working-directory"] == "analytics"
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache-dependency-path"] == "requirements.txt"
    assert any("pip install -r requirements.txt" in s.get("run", "") for s in steps)
    run = next(s for s in steps if s.get("id") == "review")["run"]
    assert "martsmith review --base origin/${{ github.base_ref }} --format markdown --output review.md" in run
    assert "--fail-on error" in run and "--sarif review.sarif" in run
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "analytics/review.sarif"
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert MARKER in script and "updateComment" in script and "createComment" in script
    assert "listComments" in script and comment["env"]["REPORT"] == "analytics/review.md"
    assert steps[-1]["if"] == "steps.review.outputs.exit_code != '0'"  # the review's verdict, after the comment
    assert workflow["permissions"]["pull-requests"] == "write"
    assert workflow["permissions"]["security-events"] == "write"

    path.write_text(text + "# my edit\n")
    cli = martsmith(project, "review", "--init-ci", "github")
    assert cli.exit_code == 7 and "--force" in cli.output
    assert path.read_text().endswith("# my edit\n")
    cli = martsmith(project, "review", "--init-ci", "github", "--force")
    assert cli.exit_code == 0, cli.output
    assert path.read_text() == text


def test_the_workflow_at_a_repository_root_without_requirements_installs_a_placeholder():
    workflow = yaml.safe_load(github_workflow(".", PLACEHOLDER, has_packages=False))
    job = workflow["jobs"]["review"]
    assert job["defaults"]["run"]["working-directory"] == "."
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "review.sarif"
    assert any("pip install martsmith" in s.get("run", "") for s in job["steps"])
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert "cache" not in python["with"]  # nothing to key pip's cache on
    assert COMMAND_WORKFLOW_PATH == WORKFLOW_PATH


def test_the_pre_commit_hook_runs_the_static_review():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "martsmith-review-static"]
    assert hook["entry"].split()[:3] == ["martsmith", "review", "--static"]
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    assert "--base" in hook["args"]
