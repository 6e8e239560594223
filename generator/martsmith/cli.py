"""The `martsmith` command line: one Click group; each command lives in martsmith/commands/.

Commands are imported only when invoked so that `martsmith --help` never loads dbt or litellm.
Known errors (MartsmithError) become one red line and an exit code; so do file-system errors
(cannot write <path>: permission denied, exit 7; cannot read ..., exit 3), Click's usage errors
and, as an internal error (exit 1), anything else. A command given `--format json` prints the
error as one JSON document on stdout instead:
`{"error": ..., "hint": ..., "exit_code": N, "findings": [{"check": ..., "message": ..., "line": ...}]}`.
--debug shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from martsmith import __version__
from martsmith.commands.output import FORMAT_KEY, MAX_MESSAGE, MAX_TEXT, emit_json, line, safe
from martsmith.errors import MartsmithError, UsageError, filesystem_error

ARGS_KEY = "martsmith.args"  # ctx.meta: the command's own arguments, for an error before --format is read

# command name -> (module, attribute, one-line help shown by `martsmith --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("martsmith.commands.init", "init", "Scaffold an analytics dbt project (optionally with sample data)."),
    "sources": ("martsmith.commands.sources", "sources", "Declare the tables of a warehouse schema as a dbt source."),
    "model": ("martsmith.commands.model", "model", "Generate a linted, built and tested dbt model from a request."),
    "star": (
        "martsmith.commands.star",
        "star",
        "Generate a star schema (facts, dimensions, dates, ERD) from a description or a source.",
    ),
    "profile": ("martsmith.commands.profile", "profile", "Profile a source or model in one pass per table."),
    "tests": ("martsmith.commands.tests", "tests", "Infer data tests from the data and merge them into YAML."),
    "status": ("martsmith.commands.status", "status", "List the models martsmith generated here, with rows and tests."),
    "conventions": (
        "martsmith.commands.conventions",
        "conventions",
        "Show the layout, YAML style and names this project uses, which martsmith follows.",
    ),
    "unit-test": ("martsmith.commands.unit_test", "unit_test", "Write a dbt unit test from real input rows."),
    "eval": (
        "martsmith.commands.eval",
        "eval_",
        "Measure a planner on requests with known answers (execution accuracy).",
    ),
    "review": (
        "martsmith.commands.review",
        "review",
        "Review a change against a base: rules, provenance, an isolated build, a data diff.",
    ),
    "recover": (
        "martsmith.commands.recover",
        "recover",
        "Roll back a martsmith run that was interrupted (killed midway).",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta[ARGS_KEY] = (cmd, list(rest))
        return name, cmd, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above: listing commands must not import them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, _, text) in COMMANDS.items()])

    def invoke(self, ctx: click.Context):
        def debug() -> bool:  # read when it fails: the group's callback sets it during invoke
            return bool(ctx.meta.get("martsmith.debug"))

        try:
            return super().invoke(ctx)
        except MartsmithError as exc:
            if debug():
                raise
            _fail(ctx, exc)
        except KeyboardInterrupt:
            if _wants_json(ctx):
                _fail(ctx, MartsmithError("Interrupted; nothing was written."), code=130)
            click.echo("Interrupted; nothing was written.", err=True)
            ctx.exit(130)
        except click.exceptions.Exit:
            raise  # --help, --version, ctx.exit()
        except click.UsageError as exc:  # a missing argument, an unknown option...
            if not _wants_json(ctx):
                raise  # click shows the usage, then the error
            where = exc.ctx.command_path if exc.ctx is not None else "martsmith"
            _fail(ctx, UsageError(exc.format_message(), hint=f"Try '{where} --help' for help."), code=exc.exit_code)
        except (click.exceptions.Abort, click.ClickException) as exc:
            if not _wants_json(ctx):
                raise
            message = exc.format_message() if isinstance(exc, click.ClickException) else "Aborted; nothing was written."
            _fail(ctx, MartsmithError(message), code=getattr(exc, "exit_code", 1))
        except OSError as exc:
            if debug():
                raise
            if (
                exc.filename is None
                and not isinstance(exc, (PermissionError, FileNotFoundError))
                and exc.errno not in _DISK_ERRNOS
            ):
                _internal(ctx, exc)  # e.g. a socket error: not the file system
            _fail(ctx, filesystem_error(exc))
        except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with --debug
            if debug():
                raise
            _internal(ctx, exc)


def _wants_json(ctx: click.Context) -> bool:
    """Whether the command asked for --format json: as parsed, or (for an error while parsing)
    as written among its arguments; only commands that have --format."""
    if FORMAT_KEY in ctx.meta:
        return ctx.meta[FORMAT_KEY] == "json"
    cmd, args = ctx.meta.get(ARGS_KEY, (None, []))
    if cmd is None or not any(p.name == "output_format" for p in cmd.params):
        return False
    args = args[: args.index("--")] if "--" in args else args
    return "--format=json" in args or any(a == "--format" and b == "json" for a, b in zip(args, args[1:]))


def _fail(ctx: click.Context, error: MartsmithError, *, code: int | None = None) -> NoReturn:
    """The error, then exit: with --format json one JSON document on stdout; else one red
    `Error:` line on stderr (the message may hold outside text: it is made safe), then the hint."""
    code = error.exit_code if code is None else code
    if _wants_json(ctx):
        emit_json({**error.as_dict(), "exit_code": code})
        ctx.exit(code)
    click.echo(click.style("Error: ", fg="red", bold=True) + safe(error.message, MAX_MESSAGE), err=True)
    if error.hint:
        click.echo(safe(error.hint, MAX_TEXT), err=True)
    ctx.exit(code)


def _internal(ctx: click.Context, exc: BaseException) -> NoReturn:
    detail = line(exc, 300) or "(no message)"
    _fail(
        ctx,
        MartsmithError(
            f"internal error: {type(exc).__name__}: {detail}",
            hint="This is a bug in martsmith: rerun with --debug for the traceback, and report it.",
        ),
    )


def _disk_errnos() -> frozenset[int]:
    import errno

    return frozenset(
        getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EROFS", "EFBIG", "EACCES", "EPERM") if hasattr(errno, n)
    )


_DISK_ERRNOS = _disk_errnos()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="martsmith")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn plain-words requests into dbt models that are linted, built and tested.

    \b
    Examples:
      martsmith init shop --sample
      cd shop
      martsmith model "total revenue by customer country per month" --yes
      martsmith sources --schema raw --name shop
    """
    ctx.meta["martsmith.debug"] = debug


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
