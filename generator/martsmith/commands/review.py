"""`martsmith review`: a pull-request review of the models a change adds, modifies or removes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from martsmith.commands.options import project_options
from martsmith.commands.output import FORMAT_KEY, emit_json, progress
from martsmith.errors import UsageError

WORKFLOW_PATH = ".github/workflows/martsmith-review.yml"  # review/ci.py writes it (not imported for --help)
FAILED_EXIT = 6  # the change failed a check: the same code as generated code failing one


def _remember_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta[FORMAT_KEY] = value  # an error is one JSON document when the report is
    return value


@click.command()
@click.option(
    "--base", "base_ref", metavar="REF", default=None, help="Git ref to compare with (parsed in a temporary worktree)."
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the base's dbt artifacts (manifest.json), instead of --base.",
)
@click.option("--select", "-s", "select", multiple=True, metavar="MODEL", help="Review only these changed models.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "json", "sarif", "text"]),
    default="markdown",
    show_default=True,
    callback=_remember_format,
    help="A PR comment, one JSON document with every figure, SARIF 2.1.0 for code scanning, or text.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warn", "never"]),
    default="error",
    show_default=True,
    help=f"Exit {FAILED_EXIT} when a finding of this severity (or worse) is found.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the report to FILE."
)
@click.option(
    "--sarif",
    "sarif_output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the findings as SARIF to FILE (one review, two reports: CI's comment and annotations).",
)
@click.option("--no-lint", is_flag=True, help="Skip sqlfluff.")
@click.option(
    "--static",
    is_flag=True,
    help="Rules and lint only: no provenance, build or data diff, no warehouse (fast; the pre-commit hook).",
)
@click.option(
    "--init-ci",
    type=click.Choice(["github"]),
    default=None,
    help=f"Write a CI workflow that reviews each pull request ({WORKFLOW_PATH}), then exit.",
)
@click.option("--force", is_flag=True, help="With --init-ci: replace an existing workflow.")
@project_options
def review(
    base_ref, state_dir, select, output_format, fail_on, output, sarif_output, no_lint, static, init_ci, force, project
) -> None:
    """Review the working tree against a base: what changed, what it breaks, what it does to the data.

    The change is the models added, modified or removed since --base REF (a git ref, parsed in a
    temporary worktree) or the artifacts in --state DIR, and their children. Each changed model
    is checked by the anti-pattern rules and sqlfluff; a generated one (meta.martsmith) is
    re-rendered from its request, so a hand edit shows as a diff; the change and its children
    are built and tested into an isolated schema (<schema>__review, dropped afterwards; the
    base's relations are only read), and each model's data is compared with the base's.

    \b
    --static stops after the rules and lint (nothing built, no warehouse): the pre-commit hook.
    --init-ci github writes a GitHub Actions workflow that runs the review on each pull request,
    uploads the SARIF and posts (then edits) one comment.

    \b
    Examples:
      martsmith review --base main
      martsmith review --base origin/main --format json --output review.json
      martsmith review --state prod-artifacts/ --select fct_orders --fail-on warn
      martsmith review --base origin/main --format sarif --output review.sarif
      martsmith review --static --base HEAD --format text
      martsmith review --init-ci github
    """
    if init_ci:
        _init_ci(project().root, force=force)
        return
    # Imported when the command runs: the review loads dbt, sqlglot and the profiler.
    from martsmith.review.ci import repository_root
    from martsmith.review.pipeline import review_project
    from martsmith.review.report import as_json, markdown, sarif, text

    if bool(base_ref) == bool(state_dir):
        raise UsageError(
            "Give exactly one of --base REF and --state DIR.",
            hint="e.g. martsmith review --base main (a git ref) or --state target-base/ (dbt artifacts).",
        )
    quiet = output_format in ("json", "sarif") and output is None
    proj = project(writes=True)
    result = review_project(
        proj,
        base_ref=base_ref,
        state_dir=state_dir,
        select=list(select) or None,
        lint=not no_lint,
        static=static,
        progress=lambda m: progress(m, quiet=quiet),
    )
    # SARIF's paths are relative to the repository's root, where code scanning resolves them.
    rel = proj.root.resolve().relative_to(repository_root(proj.root)).as_posix()
    prefix = "" if rel == "." else rel + "/"
    if sarif_output is not None:
        sarif_output.write_text(json.dumps(sarif(result, prefix), indent=2) + "\n")
        progress(f"wrote {sarif_output}", quiet=quiet)
    if output_format in ("json", "sarif"):
        report = None
        document = as_json(result) if output_format == "json" else sarif(result, prefix)
        if output is None:
            emit_json(document)
        else:
            report = json.dumps(document, indent=2, default=str) + "\n"
    else:
        report = markdown(result) if output_format == "markdown" else text(result)
        if output is None:
            click.echo(report, nl=False)
    if output is not None and report is not None:
        output.write_text(report)
        progress(f"wrote {output}", quiet=False)
    if result.fails(fail_on):
        click.get_current_context().exit(FAILED_EXIT)


def _init_ci(root: Path, *, force: bool) -> None:
    from martsmith.review.ci import PLACEHOLDER, write_github_workflow  # off the import path of --help

    written = write_github_workflow(root, force=force)
    click.echo(f"wrote {written.path}")
    click.echo(f"  on pull_request: martsmith review --base origin/<base branch> in {written.project_dir}")
    click.echo(f"  install: {written.install}")
    click.echo(
        "  then: the SARIF uploaded to code scanning, one PR comment posted or updated (<!-- martsmith-review -->)"
    )
    if written.install == PLACEHOLDER:
        click.echo("  edit the install step: this repository has no requirements.txt naming martsmith and your adapter")
    click.echo("  give the job your warehouse's credentials (env:, from secrets): the review builds and reads data")
