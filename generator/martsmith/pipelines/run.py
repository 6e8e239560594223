"""The run: what every generating command does around its own logic.

A command's pipeline (pipelines/model.py, star.py, tests.py, unit_test.py) works on one `Run`:

    with Run.start(project, dry_run=dry_run, yes=yes, output_format=output_format) as run:
        ctx = run.context()                          # the manifest and the catalog, read once
        with run.timed("plan"):                      # every stage timed the same way
            spec = ...
        if run.approve("Write and build this model?", shown=describe(spec)):
            run.write(files, ["build", "--select", name])   # all or nothing (write/)
        run.report(data, text)                       # the summary, in text or JSON

What the run owns: the project lock (taken, after recovering an interrupted run, when the
command will write), the check worker (sqlglot and sqlfluff warm up in a forked process while
dbt parses the project), the timings (`timed`: JSON summaries carry them as `seconds`), the
confirmation (--dry-run, --yes, or a question in a terminal), the write stage and the summary.
What it leaves to the pipeline: planning, rendering and checking, through the stage packages.

The run also counts what its calls to models cost (llm/usage.py: calls, tokens, dollars; in the
summary and as `llm` in JSON), and turns SIGINT and SIGTERM into exceptions in the main thread:
whatever was waiting (a model, dbt, the lock) stops, everything written is rolled back, the check
worker is stopped, and the command exits 130 (SIGINT) or 143 (SIGTERM) with one line.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import click

from martsmith.commands.output import emit_json, preview, progress, safe
from martsmith.context.dbt import DbtResult, import_in_background
from martsmith.context.load import Context, load_context
from martsmith.context.project import Project
from martsmith.errors import WriteRefused
from martsmith.llm.usage import Usage, ledger
from martsmith.validate.worker import CheckWorker
from martsmith.write import write_and_run

ProjectGetter = Callable[..., Project]  # commands.options.project_options: get(writes=..., recover=...)


@dataclass
class Run:
    """One run of a generating command on one project. Make it with `Run.start`."""

    project: Project
    dry_run: bool = False
    yes: bool = False
    output_format: Literal["text", "json"] | str = "text"
    checks: CheckWorker | None = None  # the forked check worker (`start(..., checks=True)`)
    ctx: Context | None = None  # the context, once `context()` has read it
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> seconds, from `timed`
    started: float = field(default_factory=time.perf_counter)
    silent: bool = False  # a library caller (e.g. martsmith eval): no progress, no summary
    llm: Usage = field(default_factory=Usage)  # calls to models made during the run

    @classmethod
    @contextmanager
    def start(
        cls,
        project: ProjectGetter,
        *,
        dry_run: bool = False,
        yes: bool = False,
        output_format: str = "text",
        checks: bool = False,
    ) -> Iterator[Run]:
        """A run on the project `project()` returns (commands.options.project_options), which
        holds the project lock unless --dry-run; with `checks`, the check worker starts now,
        before anything else is read."""
        with stop_on_signals() as received:
            try:
                run = cls(project(writes=not dry_run), dry_run=dry_run, yes=yes, output_format=output_format)
                if checks:
                    run.checks = CheckWorker(run.project.root)
                    if not dry_run:  # it will build: dbt's import overlaps the planning
                        import_in_background(run.project.adapter_type)
                try:
                    with ledger() as run.llm:
                        yield run
                finally:
                    if run.checks is not None:
                        run.checks.close()
            except BaseException:
                if received:  # whatever it became on the way up (dbt reports it as a failed node)
                    _stopped(received[0], output_format)
                raise

    @property
    def quiet(self) -> bool:
        """--format json: no progress lines, stdout holds one JSON document."""
        return self.output_format == "json"

    def progress(self, message: str) -> None:
        """A progress line on stderr (none with --format json)."""
        if not self.silent:
            progress(message, quiet=self.quiet)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time the block as `stage` (the time of a stage run twice adds up), even if it fails."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

    def context(self, *, profile: bool = True) -> Context:
        """The project's manifest and catalog (context/load.py), read on the first call only."""
        if self.ctx is None:
            with self.timed("context"):
                self.ctx = load_context(self.project, self.progress, profile=profile)
        return self.ctx

    @property
    def will_ask(self) -> bool:
        """Whether `approve` will ask (neither --dry-run nor --yes): what is shown then must be
        final, e.g. linted."""
        return not self.dry_run and not self.yes

    def approve(
        self,
        question: str,
        *,
        shown: str | None = None,
        action: str = "write",
        show: Literal["asking", "always"] = "asking",
    ) -> bool:
        """Whether to write: False with --dry-run (nothing is), True with --yes; in a terminal,
        `shown` then `question` (a no raises WriteRefused: nothing is written); off a terminal,
        WriteRefused (a script must say --yes). `show="always"` prints `shown` in any case
        before deciding, on stdout with --yes (not with --format json)."""
        if self.dry_run:
            return False
        if show == "always":
            if shown and not self.quiet:
                click.echo(shown, err=not self.yes)
            shown = None
        if self.yes:
            return True
        if not sys.stdin.isatty():
            raise WriteRefused(
                "Not writing without confirmation: stdin is not a terminal.",
                hint=f"Pass --yes to {action}, or --dry-run to only look.",
            )
        if shown:
            click.echo(shown, err=True)
        if not click.confirm(question, default=True, err=True):
            raise WriteRefused("Nothing was written.")
        return True

    def write(self, files: dict, dbt_args: list[str], **options: Any) -> DbtResult:
        """The write stage, timed as "dbt": `write.write_and_run(ctx, files, dbt_args, **options)`
        — files written and dbt run under the project lock and the journal, everything undone
        unless it all succeeds."""
        with self.timed("dbt"):
            return write_and_run(self.context(), files, dbt_args, **options)

    def report(self, data: dict[str, Any], text: str, previews: dict[str, str] | None = None) -> None:
        """The summary: with --format json one JSON document, `data` and the run's `seconds`;
        else `text` and, with --dry-run, each of `previews` (label -> text) marked not written."""
        self.seconds["total"] = time.perf_counter() - self.started
        if self.silent:
            return
        if self.llm.calls:
            data = {**data, "llm": self.llm.as_dict()}
            text = text.rstrip("\n") + "\n  " + self.llm.line()
        if self.quiet:
            emit_json({**data, "seconds": {stage: round(s, 3) for stage, s in self.seconds.items()}})
            return
        click.echo(text, nl=not text.endswith("\n"))
        if self.dry_run:
            for label, body in (previews or {}).items():
                click.echo(click.style(f"\n-- {safe(label)} (not written)", fg="cyan"))
                click.echo(preview(body), nl=False)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM (`signum`), so that every rollback runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals() -> Iterator[list[int]]:
    """Inside the block, SIGINT and SIGTERM raise `Interrupted` in the main thread (once: a second
    signal does not interrupt the rollback the first one started); yields the signals received.
    Outside the main thread (a library caller's worker thread), signals are left alone."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _stopped(signum: int, output_format: str) -> None:
    """After a signal, everything is rolled back: SIGINT goes on as KeyboardInterrupt (the CLI
    says so and exits 130); SIGTERM ends here, with one line and exit 143."""
    if signum != signal.SIGTERM:
        raise KeyboardInterrupt from None
    message = "Terminated (SIGTERM); nothing was written."
    if output_format == "json":
        emit_json({"error": message, "hint": None, "exit_code": 128 + signum, "findings": []})
    else:
        click.echo(message, err=True)
    raise SystemExit(128 + signum) from None


__all__ = ["Interrupted", "ProjectGetter", "Run", "stop_on_signals"]
