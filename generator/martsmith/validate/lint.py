"""sqlfluff with the project's `.sqlfluff`: auto-fix, then require zero violations.

The jinja templater is used (the dbt templater is ~10x slower and pins sqlfluff's versions).
It does not know dbt's or this package's macros, so we hand it plain-SQL stand-ins for the few
that generated code calls (the same ones the static checks use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from martsmith.render.jinja_static import macro_namespaces
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
        if not _alias_in_exists(v):
            findings.append(Finding("lint", f"{v.rule_code()}: {v.desc()}", v.line_no))
    return LintResult(sql=fixed_sql, findings=findings, fixed=fixed)


def _alias_in_exists(violation) -> bool:
    """AL03 on the select list of an `exists (...)` subquery: `select 1` there is idiomatic and its
    column is never read, so an alias would be noise (the rule stays on everywhere else)."""
    if violation.rule_code() != "AL03" or getattr(violation, "segment", None) is None:
        return False
    node, child = violation.segment, None
    while node is not None:
        if child is not None and child.is_type("bracketed") and node.is_type("expression"):
            codes = [s for s in node.segments if s.is_code]
            where = next((i for i, s in enumerate(codes) if s is child), 0)
            if where > 0 and codes[where - 1].raw.lower() == "exists":
                return True
        parent = node.get_parent()
        node, child = (parent[0], node) if parent else (None, node)
    return False
