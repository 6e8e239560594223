"""sqlfluff with the project's `.sqlfluff`: auto-fix, then require zero violations.

The jinja templater is used (the dbt templater is ~10x slower and pins sqlfluff's versions).
It does not know dbt's or this package's macros, so we hand it plain-SQL stand-ins for the few
that generated code calls (the same ones the static checks use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from martsmith.validate.findings import Finding

# Used when the project has no .sqlfluff: the same settings `martsmith init` writes.
DEFAULT_SQLFLUFF = (Path(__file__).parent.parent / "scaffold" / "templates" / "sqlfluff.tmpl").read_text()


@dataclass
class LintResult:
    sql: str  # the fixed SQL
    findings: list[Finding] = field(default_factory=list)
    fixed: bool = False


def _templater_class():
    from sqlfluff.core.templaters.jinja import JinjaTemplater

    from martsmith.render.jinja_static import macro_namespaces

    class MartsmithJinjaTemplater(JinjaTemplater):
        """The jinja templater plus stand-ins for `dbt.*` and `martsmith.*` macros."""

        def get_context(self, fname=None, config=None, **kwargs):
            ctx = super().get_context(fname, config, **kwargs)
            for name, value in macro_namespaces().items():
                if name != "config":
                    ctx.setdefault(name, value)
            return ctx

    return MartsmithJinjaTemplater


def _config(project_root: Path):
    from sqlfluff.core import FluffConfig

    if (project_root / ".sqlfluff").is_file():
        config = FluffConfig.from_path(str(project_root))
    else:
        config = FluffConfig.from_string(DEFAULT_SQLFLUFF)
    if config.get("templater") == "jinja":
        config._configs["core"]["templater_obj"] = _templater_class()()
    return config


def lint_sql(sql: str, project_root: Path, fname: str = "model.sql") -> LintResult:
    """Fix what sqlfluff can fix, then report what is left (an empty list means clean)."""
    from sqlfluff.core import Linter

    linter = Linter(config=_config(project_root))
    fixed_sql = sql
    fixed = False
    result = linter.lint_string(sql, fname=fname, fix=True)
    if result.violations:
        candidate, ok = result.fix_string()
        if ok and candidate != sql:
            fixed_sql, fixed = candidate, True
            result = linter.lint_string(fixed_sql, fname=fname)
    findings = []
    for v in result.violations:
        findings.append(Finding("lint", f"{v.rule_code()}: {v.desc()}", v.line_no))
    return LintResult(sql=fixed_sql, findings=findings, fixed=fixed)


class LintWorker:
    """sqlfluff in a forked process, warmed up while the parent parses the dbt project.

    Importing sqlfluff and building its config costs ~1 s, as much as a dbt build of one model;
    on a machine with a second core that time overlaps with dbt's. Where fork is unavailable
    (or anything goes wrong with the worker) linting simply runs in-process.
    """

    def __init__(self, project_root: Path) -> None:
        self.project_root = project_root
        self._conn = None
        self._proc = None
        try:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, project_root), daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        except (ValueError, OSError):
            self._proc = self._conn = None

    def lint(self, sql: str, fname: str = "model.sql") -> LintResult:
        if self._conn is not None:
            try:
                self._conn.send((sql, fname))
                kind, payload = self._conn.recv()
                if kind == "ok":
                    return payload
            except (EOFError, OSError):
                pass
            self.close()
        return lint_sql(sql, self.project_root, fname)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=2)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None

    def __enter__(self) -> "LintWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(conn, project_root: Path) -> None:
    """Worker loop: warm up, then lint each (sql, fname) received until None."""
    try:
        lint_sql("select 1 as warm_up\n", project_root, "warm_up.sql")
        while True:
            item = conn.recv()
            if item is None:
                break
            sql, fname = item
            try:
                conn.send(("ok", lint_sql(sql, project_root, fname)))
            except Exception as exc:  # reported to the parent, which lints in-process instead
                conn.send(("error", repr(exc)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()
