"""`martsmith conventions`: how this project lays out its dbt code, and where martsmith will write."""

from __future__ import annotations

import click

from martsmith.commands.options import format_option, project_options
from martsmith.commands.output import emit_json, line


@click.command()
@format_option
@project_options
def conventions(output_format, project) -> None:
    """Show the conventions martsmith detected in this project and follows when it writes.

    Folders per layer (staging, intermediate, marts, or a flat models/), the YAML layout (one
    file per model, or one schema.yml / _models.yml per folder), `tests:` or `data_tests:`,
    name prefixes, the materializations set in dbt_project.yml, and whether the project's own
    sqlfluff can read generated models. Pin any choice in dbt_project.yml under
    `vars: martsmith:` (e.g. `marts_dir: models`, `yaml_layout: per_folder`, `tests_key: tests`).

    \b
    Examples:
      martsmith conventions
      martsmith conventions --format json
    """
    # Imported when the command runs: reading the project parses YAML files.
    from martsmith.context.conventions import detect_conventions

    found = detect_conventions(project())
    if output_format == "json":
        emit_json(found.to_dict())
        return
    yaml_where = (
        "one YAML per model, beside its SQL"
        if found.yaml_layout == "per_model"
        else f"one {found.yaml_file} per folder"
    )
    rows = [
        ("marts", f"{found.marts_dir}/", "marts_dir"),
        ("staging", f"{found.staging_dir}/", "staging_dir"),
        ("intermediate", f"{found.intermediate_dir}/", "intermediate_dir"),
        ("YAML", yaml_where, "yaml_layout"),
        ("tests key", f"{found.tests_key}:", "tests_key"),
        ("mart prefix", found.mart_prefix or "(none)", "mart_prefix"),
        ("staging prefix", found.staging_prefix, "staging_prefix"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value, key in rows:
        click.echo(f"{label:<{width}}  {line(value, 200)}  ({line(found.origin.get(key, 'default'), 200)})")
    if found.materialized:
        shown = ", ".join(f"{folder}: {kind}" for folder, kind in found.materialized.items())
        click.echo(f"{'materialized':<{width}}  {line(shown, 300)}  (dbt_project.yml)")
    fluff = found.sqlfluff
    if fluff.config is None:
        click.echo(f"{'sqlfluff':<{width}}  no .sqlfluff: martsmith lints with the style `martsmith init` writes")
    else:
        stand_ins = "reads martsmith's macros" if fluff.stand_ins else "does not read martsmith's macros"
        click.echo(
            f"{'sqlfluff':<{width}}  {fluff.config}: {line(fluff.templater, 40)} templater, "
            f"dialect {line(fluff.dialect or '(default)', 40)}; {stand_ins}"
        )
        if fluff.advice:
            click.echo(f"  to lint generated models with your own sqlfluff: {fluff.advice}")
    click.echo("Pin a choice in dbt_project.yml under `vars: martsmith:` (e.g. marts_dir: models).")
