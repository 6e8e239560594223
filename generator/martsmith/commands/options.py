"""Options shared by commands: spelled once, so a flag means the same everywhere."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from martsmith.commands.output import FORMAT_KEY
from martsmith.context.project import Project, load_project


def project_options(func: Callable) -> Callable:
    """--project-dir, --profiles-dir, --target: which dbt project and target to work on.

    The command gets `project`, a function returning the Project. `project(writes=True)` (a run
    that will write) also takes the project lock until the command ends, waiting for another
    run; either way a journal left by an interrupted run is recovered first (write/journal.py).
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
                # Imported when a command runs: the write package (Jinja, YAML) stays off --help.
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


def _remember_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta[FORMAT_KEY] = value  # meta is shared with the group's context, where errors are handled
    return value


def format_option(func: Callable) -> Callable:
    """--format text|json: the summary, and an error, as text or as one JSON document on stdout."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        callback=_remember_format,
        help="Human summary or one JSON document on stdout (errors too).",
    )(func)


def llm_option(func: Callable) -> Callable:
    """--llm MODEL, --llm-timeout SECONDS, --no-cache: which model plans, and how it is called.

    The command gets `llm_model` (the model string, or None for the offline planner); the other
    settings (llm/settings.py: these options, then MARTSMITH_LLM_* variables) are bound for the
    whole command, so every planner it runs calls the model the same way."""

    @click.option(
        "--llm",
        "llm_model",
        envvar="MARTSMITH_LLM",
        default=None,
        metavar="MODEL",
        help="Plan with an LLM through litellm (e.g. openai/gpt-4.1-mini, anthropic/claude-sonnet-4-5, "
        "ollama/llama3.1). Default: the offline planner. Env: MARTSMITH_LLM.",
    )
    @click.option(
        "--llm-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds to wait for one answer (default 120; 600 for ollama, vLLM and other local "
        "servers). Env: MARTSMITH_LLM_TIMEOUT.",
    )
    @click.option(
        "--no-cache",
        is_flag=True,
        help="Ask the model again instead of replaying answers cached for the same prompt "
        "(the new answers are cached). Env: MARTSMITH_LLM_NO_CACHE=1.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, llm_timeout: float | None, no_cache: bool, **kwargs: Any):
        if not kwargs.get("llm_model"):
            return func(*args, **kwargs)
        # Imported when a command runs with --llm: settings only, litellm stays unloaded until a call.
        from martsmith.llm.settings import LLMSettings, use

        with use(LLMSettings.from_env().with_options(timeout=llm_timeout, no_cache=no_cache)):
            return func(*args, **kwargs)

    return wrapper


def confirm_options(dry_run_help: str) -> Callable[[Callable], Callable]:
    """--dry-run (`dry_run_help` says what it shows) and --yes: how every writing command is
    confirmed (pipelines/run.py, Run.approve)."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "--yes", "-y", is_flag=True, help="Write without asking (required when not in a terminal)."
        )(func)
        return click.option("--dry-run", is_flag=True, help=dry_run_help)(func)

    return decorate


__all__ = ["Project", "confirm_options", "format_option", "llm_option", "project_options"]
