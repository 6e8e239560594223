"""The validate stage's checks in a forked process, warmed up while the parent parses the dbt
project.

Importing sqlfluff and sqlglot and building sqlfluff's config cost ~1.3 s, more than a dbt build
of one model. A worker forked at the start of a command pays that on the second core while dbt
parses in the parent; the parent then never imports either. Where fork is unavailable (or the
worker fails) every check simply runs in-process.

>>> with CheckWorker(Path(".")) as w:
...     [f.message for f in w.check_sql("select 1 as x; select 2 as y", Catalog())]
['expected exactly one SELECT statement, found 2 statements']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from martsmith.context.catalog import Catalog
from martsmith.validate.findings import Finding
from martsmith.validate.lint import LintResult, lint_sql


def _lint(project_root: Path, sql: str, fname: str) -> LintResult:
    return lint_sql(sql, project_root, fname)


def _check_sql(project_root: Path, sql: str, catalog: Catalog) -> list[Finding]:
    from martsmith.validate.static import check_sql  # sqlglot: imported in the worker, never in the parent

    return check_sql(sql, catalog)


def _warm_up(project_root: Path) -> None:
    import martsmith.validate.static  # noqa: F401  (sqlglot)

    lint_sql("select 1 as warm_up\n", project_root, "warm_up.sql")


# Tasks take different arguments and return different types: each public method of
# CheckWorker restores the precise signature of the task it runs.
TASKS: dict[str, Callable[..., Any]] = {"lint": _lint, "check_sql": _check_sql}


class CheckWorker:
    """Runs lint and static checks in a warmed-up child process (or in-process as a fallback)."""

    def __init__(self, project_root: Path) -> None:
        self.project_root = project_root
        self._conn = None
        self._proc = None
        try:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, project_root, parent), daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        except (ValueError, OSError):
            self._proc = self._conn = None

    def _run(self, task: str, *args: Any) -> Any:
        if self._conn is not None:
            try:
                self._conn.send((task, args))
                kind, payload = self._conn.recv()
                if kind == "ok":
                    return payload
            except (EOFError, OSError):
                pass
            self.close()
        return TASKS[task](self.project_root, *args)

    def lint(self, sql: str, fname: str = "model.sql") -> LintResult:
        """sqlfluff fix + lint with the project's .sqlfluff (see validate.lint.lint_sql)."""
        return self._run("lint", sql, fname)

    def check_sql(self, sql: str, catalog: Catalog) -> list[Finding]:
        """Safety and column checks of a model's SQL (see validate.static.check_sql)."""
        return self._run("check_sql", sql, catalog)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            # An idle worker exits on the None at once; one still warming up (a refusal before any
            # check, now that a cached context leaves no dbt parse to overlap) holds nothing worth
            # waiting for.
            self._proc.join(timeout=0.2)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None

    def __enter__(self) -> CheckWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(conn, project_root: Path, parent_end=None) -> None:
    """Worker loop: warm up, then run each (task, args) received until None, or until the parent
    is gone (EOF: it died, even by kill -9)."""
    if parent_end is not None:
        # The fork copied the parent's end of the pipe: closed here, the parent's death is an EOF,
        # and the worker does not outlive it holding the files it inherited (the project lock).
        parent_end.close()
    try:
        _warm_up(project_root)
        while True:
            item = conn.recv()
            if item is None:
                break
            task, args = item
            try:
                conn.send(("ok", TASKS[task](project_root, *args)))
            except Exception as exc:  # reported to the parent, which runs the task itself
                conn.send(("error", repr(exc)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()
