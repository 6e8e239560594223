"""Options shared by commands: spelled once, so a flag means the same everywhere."""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Any, Callable

import click

from martsmith.context.project import Project, load_project


def project_options(func: Callable) -> Callable:
    """--project-dir, --profiles-dir, --target: which dbt project and target to work on.

    The command gets `project`, a function returning the Project. `project(writes=True)` (a run
    that will write) also takes the project lock until the command ends, waiting for another
    run; either way a journal left by an interrupted run is recovered first (martsmith.write.journal).
    `recover=False` leaves that to the caller (`martsmith recover`)."""

    @click.option(
        "--project-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The dbt project (default: the nearest folder with dbt_project.yml).",
    )
    @click.option(
        "--profiles-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder of profiles.yml (default: the project, $DBT_PROFILES_DIR, ~/.dbt).",
    )
    @click.option("--target", default=None, help="dbt target (default: the profile's).")
    @functools.wraps(func)
    def wrapper(*args: Any, project_dir: Path | None, profiles_dir: Path | None, target: str | None, **kwargs: Any):
        current = click.get_current_context(silent=True)
        command = "martsmith " + (current.info_name if current is not None and current.info_name else func.__name__)
        with contextlib.ExitStack() as stack:

            def get(*, writes: bool = False, recover: bool = True) -> Project:
                from martsmith.write.journal import project_lock, recover_if_stale

                proj = load_project(project_dir, profiles_dir, target)
                if writes:
                    stack.enter_context(project_lock(proj, command, recover=recover))
                elif recover:
                    recover_if_stale(proj)
                return proj

            kwargs["project"] = get
            return func(*args, **kwargs)

    return wrapper


def format_option(func: Callable) -> Callable:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Human summary or one JSON document on stdout.",
    )(func)


def llm_option(func: Callable) -> Callable:
    return click.option(
        "--llm",
        "llm_model",
        envvar="MARTSMITH_LLM",
        default=None,
        metavar="MODEL",
        help="Plan with an LLM through litellm (e.g. openai/gpt-4.1-mini, anthropic/claude-sonnet-4-5, "
        "ollama/llama3.1). Default: the offline planner. Env: MARTSMITH_LLM.",
    )(func)


def ask_to_write(question: str, *, yes: bool, shown: str | None = None, action: str = "write") -> bool:
    """The confirmation every writing command asks for: True with --yes; in a terminal, show
    `shown` and ask; off a terminal, refuse (a script must say --yes)."""
    import sys

    from martsmith.errors import WriteRefused

    if yes:
        return True
    if not sys.stdin.isatty():
        raise WriteRefused(
            "Not writing without confirmation: stdin is not a terminal.",
            hint=f"Pass --yes to {action}, or --dry-run to only look.",
        )
    if shown:
        click.echo(shown, err=True)
    return click.confirm(question, default=True, err=True)


def emit_json(data: Any) -> None:
    """One JSON document on stdout: valid whatever the strings hold (json.dumps escapes control
    characters), with huge strings cut and marked (`martsmith.commands.output.for_json`)."""
    from martsmith.commands.output import for_json

    click.echo(json.dumps(for_json(json.loads(json.dumps(data, default=str))), indent=2, sort_keys=False))


def progress(message: str, *, quiet: bool = False) -> None:
    """A progress line on stderr (stdout stays clean for --format json); the message may name
    outside things (tables, models): it is made safe."""
    from martsmith.commands.output import line

    if not quiet:
        click.echo(click.style("· ", fg="cyan") + line(message), err=True)


__all__ = ["Project", "project_options", "format_option", "llm_option", "ask_to_write", "emit_json", "progress"]
