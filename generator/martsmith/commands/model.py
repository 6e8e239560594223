"""`martsmith model`: one request in plain words -> one linted, built and tested dbt model."""

from __future__ import annotations


import click

from martsmith.commands.options import ask_to_write, emit_json, format_option, llm_option, progress, project_options
from martsmith.commands.output import MAX_ITEMS, items, line, preview, safe

MAX_NOTES = 20  # notes and findings shown; an LLM may write thousands


def _describe(result) -> str:
    # Everything here may come from the request, the LLM or the data: made safe piece by piece.
    spec = result.spec
    lines = [click.style(line(spec.name, 200), bold=True) + f"  ({line(spec.planner, 200)} planner)",
             f"  {line(spec.description)}"]
    if spec.grain:
        lines.append("  grain: " + items(spec.grain, what="columns"))
    if spec.inputs:
        lines.append("  reads: " + items(
            [f"source('{i.source_name}', '{i.table}')" if i.kind == "source" else f"ref('{i.table}')" for i in spec.inputs],
            what="inputs",
        ))
    for note in spec.notes[:MAX_NOTES]:
        lines.append(click.style("  note: ", fg="yellow") + line(note))
    if len(spec.notes) > MAX_NOTES:
        lines.append(f"  … and {len(spec.notes) - MAX_NOTES:,} more notes")
    if spec.tests:
        lines.append("  tests: " + items([f"{t.name}({t.column})" if t.column else t.name for t in spec.tests],
                                         what="tests", limit=MAX_ITEMS * 2))
    for finding in result.findings[:MAX_NOTES]:
        lines.append(click.style("  data finding: ", fg="magenta") + line(finding))
    if len(result.findings) > MAX_NOTES:
        lines.append(f"  … and {len(result.findings) - MAX_NOTES:,} more findings")
    return "\n".join(lines)


def _summary(result, root) -> str:
    files = [safe(p.relative_to(root)) for p in (result.sql_path, result.yml_path)]
    lines = [_describe(result), "  files: " + ", ".join(files)]
    if result.built:
        warned = f", {result.tests_warned} warned" if result.tests_warned else ""
        lines.append(f"  built: {result.rows} rows; tests: {result.tests_passed} passed{warned}")
    elif result.written:
        lines.append("  compiled (not built: --no-build)")
    return "\n".join(lines)


@click.command()
@click.argument("request")
@click.option("--name", default=None, help="Model name (default: derived from the request).")
@llm_option
@click.option("--dry-run", is_flag=True, help="Show the plan and the files; write and build nothing.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (required when not in a terminal).")
@click.option("--no-build", is_flag=True, help="Compile only; don't build or test in the warehouse.")
@click.option("--force", is_flag=True, help="Replace an existing model of the same name.")
@format_option
@project_options
def model(request, name, llm_model, dry_run, yes, no_build, force, output_format, project) -> None:
    """Generate a dbt model from REQUEST, in plain words.

    The model is planned (offline by default, or with --llm), rendered as dbt SQL + YAML,
    checked (single SELECT, columns against the catalog, sqlfluff), then built and tested with
    dbt. If any step fails, nothing is written and the warehouse is left as it was.

    \b
    Examples:
      martsmith model "total revenue by customer country per month" --yes
      martsmith model "number of orders per status, completed orders only" --dry-run
      martsmith model "top 10 products by quantity sold" --name top_products --yes
      martsmith model "weekly active accounts by plan" --llm openai/gpt-4.1-mini --yes
    """
    from martsmith.pipeline import generate_model

    proj = project(writes=not dry_run)
    quiet = output_format == "json"
    result = generate_model(
        request,
        proj,
        name=name,
        llm_model=llm_model,
        dry_run=dry_run,
        no_build=no_build,
        force=force,
        confirm=lambda r: ask_to_write(
            "Write and build this model?", yes=yes, shown=_describe(r), action="write and build"
        ),
        progress=lambda m: progress(m, quiet=quiet),
    )
    if output_format == "json":
        data = result.as_dict(proj.root)
        if dry_run:
            data["sql"], data["yml"] = result.sql, result.yml
        emit_json(data)
        return
    if dry_run:
        click.echo(_describe(result))
        for path, text in ((result.sql_path, result.sql), (result.yml_path, result.yml)):
            click.echo(click.style(f"\n-- {safe(path.relative_to(proj.root))} (not written)", fg="cyan"))
            click.echo(preview(text), nl=False)
        return
    click.echo(_summary(result, proj.root))
