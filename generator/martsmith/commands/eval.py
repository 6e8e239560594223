"""`martsmith eval`: measure a planner on your own warehouse, case by case."""

from __future__ import annotations

from pathlib import Path

import click

from martsmith.commands.options import format_option, llm_option, project_options
from martsmith.commands.output import emit_json, line, progress


@click.command(name="eval")
@click.argument("cases", type=click.Path(dir_okay=False, path_type=Path))
@llm_option
@click.option("--case", "only", multiple=True, metavar="ID", help="Run only this case (repeatable).")
@click.option("--verbose", is_flag=True, help="Show the plan and a row diff for every case that is not a pass.")
@format_option
@project_options
def eval_(
    cases: Path, llm_model: str | None, only: tuple[str, ...], verbose: bool, output_format: str, project
) -> None:
    """Measure the planner on CASES, a YAML file of requests with the answer each should give.

    Every case is planned, built and tested in a scratch copy of the project (nothing of yours
    changes) and its rows are compared with the gold SQL's (or the gold rows): as multisets,
    columns matched by their values, numbers within 0.01. Results: pass, wrong (built, exit 0,
    rows differ), refused (the planner said it cannot), error. The exit code is 0 whatever the
    accuracy; a cases file that does not read is exit 2.

    \b
    Cases file:
      cases:
        - id: orders_per_status
          request: number of orders per status
          gold: select status, count(*) from raw.orders group by 1

    \b
    Examples:
      martsmith eval cases.yml
      martsmith eval cases.yml --llm openai/gpt-4.1-mini --format json
      martsmith eval cases.yml --case orders_per_status --verbose
    """
    # Imported when the command runs: the runner loads the whole model pipeline.
    from martsmith.errors import UsageError
    from martsmith.eval.cases import load_suite
    from martsmith.eval.runner import run_suite

    suite = load_suite(cases)
    if only:
        missing = sorted(set(only) - {c.id for c in suite.cases})
        if missing:
            raise UsageError(f"No case {', '.join(missing)} in {cases}.")
        suite.cases = [c for c in suite.cases if c.id in only]
    quiet = output_format == "json"
    report = run_suite(
        suite, project(), name=cases.name, llm_model=llm_model, progress=lambda m: progress(m, quiet=quiet)
    )
    if quiet:
        emit_json(report.as_dict())
        return
    marks = {
        "pass": click.style("pass   ", fg="green"),
        "wrong": click.style("WRONG  ", fg="red", bold=True),
        "refused": click.style("refused", fg="yellow"),
        "error": click.style("error  ", fg="red"),
    }
    for r in report.results:
        click.echo(
            f"{marks[r.status]} {line(r.id, 80)}  ({r.seconds:.1f} s)"
            + ("" if r.status == "pass" else f": {line(r.message, 300)}")
        )
        if verbose and r.status != "pass":
            click.echo(f"          request: {line(r.request, 300)}")
            for step in r.plan:
                click.echo(f"          plan: {line(step, 300)}")
            for side, rows in r.diff.items():
                for row in rows:
                    click.echo(f"          {side.replace('_', ' ')}: {line(row, 300)}")
    counts = report.counts
    n = len(report.results)
    click.echo(
        click.style(f"accuracy {counts['pass']}/{n} ({report.accuracy:.0%})", bold=True)
        + f": wrong {counts['wrong']} ({counts['wrong'] / n:.0%}), refused {counts['refused']}, "
        f"errors {counts['error']}; {report.planner} planner, {report.seconds:.0f} s"
    )
