"""sqlfluff with the project's `.sqlfluff`: auto-fix, then require zero violations.

The host's dialect and rules, always with the jinja templater (the dbt templater is ~10x slower
and pins sqlfluff's versions; a host that uses it gets the jinja templater with dbt's builtins,
the closest match without the plugin). The templater does not know dbt's or this package's
macros, so it gets plain-SQL stand-ins for the few that generated code calls (the same ones the
static checks use, and the ones `macros/martsmith_sqlfluff` gives the host's own sqlfluff).

A fix is kept only if the SQL still means the same: both versions are rendered and parsed with
sqlglot and compared. When the whole fix changes the meaning (a rule that qualifies a date part
as if it were a column: `extract(isodow from ...)` -> `extract(orders.isodow from ...)`), the
rules whose fix does it are found one by one, the others are applied, and their violations stay
findings that name the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from martsmith.errors import JinjaCheckError
from martsmith.render.jinja_static import macro_namespaces, render_static
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


def _config(project_root: Path, overrides: dict[str, str] | None = None):
    from sqlfluff.core import FluffConfig

    # Generated models are dbt Jinja: whatever templater the host names (dbt, or one sqlfluff
    # cannot load without a plugin), they are linted by the jinja one with dbt's builtins.
    settings: dict[str, Any] = {"templater": "jinja", **(overrides or {})}
    if (project_root / ".sqlfluff").is_file():
        config = FluffConfig.from_path(str(project_root), overrides=settings)
    else:
        config = FluffConfig.from_string(DEFAULT_SQLFLUFF, overrides=settings)
    jinja = config._configs.setdefault("templater", {}).setdefault("jinja", {})
    jinja["apply_dbt_builtins"] = True
    config._configs["core"]["templater_obj"] = _templater_class()()
    return config


def lint_sql(sql: str, project_root: Path, fname: str = "model.sql") -> LintResult:
    """Fix what sqlfluff can fix, then report what is left (an empty list means clean)."""
    from sqlfluff.core import Linter

    linter = Linter(config=_config(project_root))
    fixed_sql = sql
    fixed = False
    result = linter.lint_string(sql, fname=fname, fix=True)
    unsafe: dict[str, str] = {}  # rule -> the fix it proposed that changes the SQL's meaning
    if result.violations:
        candidate, ok = result.fix_string()
        if ok and candidate != sql and not same_meaning(sql, candidate):
            candidate, ok, unsafe = _fix_without_unsafe_rules(sql, result, project_root, fname)
        if ok and candidate != sql:
            fixed_sql, fixed = candidate, True
            result = linter.lint_string(fixed_sql, fname=fname)
    findings = []
    for v in result.violations:
        if _alias_in_exists(v):
            continue
        message = f"{v.rule_code()}: {v.desc()}"
        if v.rule_code() in unsafe:
            message += f" (sqlfluff's fix, not applied, would change what the SQL means: {unsafe[v.rule_code()]})"
        findings.append(Finding("lint", message, v.line_no))
    return LintResult(sql=fixed_sql, findings=findings, fixed=fixed)


def _fix_without_unsafe_rules(sql: str, result, project_root: Path, fname: str) -> tuple[str, bool, dict[str, str]]:
    """The fix of every rule whose own fix keeps the SQL's meaning; the others, with the line
    each would have written. Only run when the whole fix changed the meaning (rare: one lint per
    fixable rule)."""
    from sqlfluff.core import Linter

    fixable = sorted({v.rule_code() for v in result.violations if getattr(v, "fixes", None)})
    unsafe: dict[str, str] = {}
    for code in fixable:
        alone = Linter(config=_config(project_root, {"rules": code})).lint_string(sql, fname=fname, fix=True)
        candidate, ok = alone.fix_string()
        if ok and candidate != sql and not same_meaning(sql, candidate):
            unsafe[code] = _first_changed_line(sql, candidate)
    if not unsafe:  # no single rule is to blame, only their combination: fix nothing
        return sql, False, {code: "(with the other fixes)" for code in fixable}
    excluded = ",".join(filter(None, [_config(project_root).get("exclude_rules") or "", *unsafe]))
    rest = Linter(config=_config(project_root, {"exclude_rules": excluded})).lint_string(sql, fname=fname, fix=True)
    candidate, ok = rest.fix_string()
    if ok and candidate != sql and not same_meaning(sql, candidate):
        return sql, False, {**{code: "(with the other fixes)" for code in fixable}, **unsafe}
    return candidate, ok, unsafe


def _first_changed_line(before: str, after: str) -> str:
    for old, new in zip(before.splitlines(), after.splitlines()):
        if old != new:
            return f"`{new.strip()[:120]}`"
    return "(a change in the layout of lines)"


def same_meaning(before: str, after: str) -> bool:
    """Whether two versions of a model's SQL say the same thing: rendered without dbt and
    parsed with sqlglot, their canonical forms (case, quoting, aliases and qualification made
    explicit, comments dropped) are equal. A version that no longer renders or parses, while
    the first did, does not.

    >>> same_meaning("select a from t", "SELECT t.a AS a FROM t AS t -- qualified")
    True
    >>> same_meaning("select extract(isodow from t.d) as w from t", "select extract(t.isodow from t.d) as w from t")
    False
    """
    first = _canonical(before)
    if first is None:
        return True  # nothing to compare with: sqlglot could not read the original either
    return first == _canonical(after)


def _canonical(sql: str) -> str | None:
    # sqlglot is heavy and only needed when sqlfluff proposed a fix.
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    try:
        text = render_static(
            sql, {}, on_unknown=lambda shown: '"' + "".join(c if c.isalnum() else "_" for c in shown) + '"'
        )
        tree = sqlglot.parse_one(text, read="duckdb")
    except (JinjaCheckError, SqlglotError, ValueError):
        return None

    def normalize(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Join) and not node.args.get("kind") and not node.args.get("side"):
            node.set("kind", "INNER")  # `join` is `inner join`
        if isinstance(node, exp.Count) and isinstance(node.this, exp.Literal):
            node.set("this", exp.Star())  # count(1), count(0) and count(*) count the same rows
        return node

    try:
        tree = qualify(tree, dialect="duckdb", validate_qualify_columns=False)
        # Without a schema, qualify leaves a column of a single-table select unqualified: that
        # table is the only one it can belong to (`a` is `t.a` in `select a from t`).
        for scope in traverse_scope(tree):
            if len(scope.sources) == 1:
                (alias,) = scope.sources
                for column in scope.columns:
                    if not column.table:
                        column.set("table", exp.to_identifier(alias, quoted=True))
    except SqlglotError:
        pass  # compare without qualification
    tree = tree.transform(normalize)
    return tree.sql(dialect="duckdb", comments=False, normalize_functions="lower")


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
