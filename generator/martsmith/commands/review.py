"""`martsmith review`: a pull-request review of the models a change adds, modifies or removes."""

from __future__ import annotations

from pathlib import Path

import click

from martsmith.commands.options import project_options
from martsmith.commands.output import FORMAT_KEY, emit_json, progress
from martsmith.errors import UsageError

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
    type=click.Choice(["markdown", "json", "text"]),
    default="markdown",
    show_default=True,
    callback=_remember_format,
    help="A PR comment, one JSON document with every figure, or text for a terminal.",
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
@click.option("--no-lint", is_flag=True, help="Skip sqlfluff.")
@project_options
def review(base_ref, state_dir, select, output_format, fail_on, output, no_lint, project) -> None:
    """Review the working tree against a base: what changed, what it breaks, what it does to the data.

    The change is the models added, modified or removed since --base REF (a git ref, parsed in a
    temporary worktree) or the artifacts in --state DIR, and their children. Each changed model
    is checked by the anti-pattern rules and sqlfluff; a generated one (meta.martsmith) is
    re-rendered from its request, so a hand edit shows as a diff; the change and its children
    are built and tested into an isolated schema (<schema>__review, dropped afterwards; the
    base's relations are only read), and each model's data is compared with the base's.

    \b
    Examples:
      martsmith review --base main
      martsmith review --base origin/main --format json --output review.json
      martsmith review --state prod-artifacts/ --select fct_orders --fail-on warn
    """
    # Imported when the command runs: the review loads dbt, sqlglot and the profiler.
    from martsmith.review.pipeline import review_project
    from martsmith.review.report import as_json, markdown, text

    if bool(base_ref) == bool(state_dir):
        raise UsageError(
            "Give exactly one of --base REF and --state DIR.",
            hint="e.g. martsmith review --base main (a git ref) or --state target-base/ (dbt artifacts).",
        )
    quiet = output_format == "json" and output is None
    result = review_project(
        project(writes=True),
        base_ref=base_ref,
        state_dir=state_dir,
        select=list(select) or None,
        lint=not no_lint,
        progress=lambda m: progress(m, quiet=quiet),
    )
    if output_format == "json":
        report = None
        if output is None:
            emit_json(as_json(result))
        else:
            import json

            report = json.dumps(as_json(result), indent=2, default=str) + "\n"
    else:
        report = markdown(result) if output_format == "markdown" else text(result)
        if output is None:
            click.echo(report, nl=False)
    if output is not None and report is not None:
        output.write_text(report)
        progress(f"wrote {output}", quiet=False)
    if result.fails(fail_on):
        click.get_current_context().exit(FAILED_EXIT)
