"""The review's anti-pattern rules: each has an id, a severity and a one-paragraph doc (shown by
`martsmith review --rules` and in the README). The static ones read a model's SQL with its
Jinja stubbed out (`ref('m')` becomes the table `__ref__m`), so they need no warehouse.

>>> [f.rule for f in static_findings(_example(), layer="marts")]
['MS006', 'MS008', 'MS009']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from martsmith.review.changes import ModelState

Severity = Literal["error", "warn"]
DIALECT = "duckdb"
logging.getLogger("sqlglot").setLevel(logging.ERROR)  # what it cannot traverse is not a finding


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    doc: str


RULES: tuple[Rule, ...] = (
    Rule(
        "MS001",
        "source-outside-staging",
        "warn",
        "A model outside staging reads a source directly. Staging models are the one place raw data is renamed, "
        "cast and deduplicated; a mart that reads the source repeats (or forgets) that work. Read the source's "
        "staging model with ref() instead, or add one (`martsmith star --from-source`).",
    ),
    Rule(
        "MS002",
        "staging-reads-other-staging",
        "warn",
        "A staging model reads another model, or a source other than its own (stg_<source>__<table> reads "
        "<source>). Staging is one view per source table; combining tables belongs in intermediate or marts.",
    ),
    Rule(
        "MS003",
        "missing-primary-key-test",
        "warn",
        "The model has data tests but none on its primary key: no column with both `unique` and `not_null`, and "
        "no `unique_combination_of_columns`. Without one, a duplicated row or a fan-out join passes silently.",
    ),
    Rule(
        "MS004",
        "missing-description-or-grain",
        "warn",
        'The model has no description, or its description does not state its grain ("One row per ..."). '
        "A reader (and the planner) needs to know what one row is before trusting an aggregate of it.",
    ),
    Rule(
        "MS005",
        "untested-model",
        "warn",
        "The model has no data tests at all (test coverage of the change). Add at least its primary key's "
        "`unique` and `not_null` (`martsmith tests MODEL` proposes the tests its data supports).",
    ),
    Rule(
        "MS006",
        "select-star-in-mart",
        "warn",
        "A mart's output columns come from `select *` over a relation, so they change whenever the upstream "
        "does. Import CTEs may `select *`; the final select of a mart should name its columns.",
    ),
    Rule(
        "MS007",
        "hard-coded-relation",
        "error",
        "The SQL reads a table by its database or schema name instead of ref() or source(). dbt cannot order it, "
        "defer it, or build it in another schema (this review cannot isolate it); declare it as a source.",
    ),
    Rule(
        "MS008",
        "limit-without-order-by",
        "warn",
        "A `limit` without an `order by` returns an arbitrary subset that may change from one run to the next. "
        "Order by a unique key before limiting.",
    ),
    Rule(
        "MS009",
        "unused-cte",
        "warn",
        "A CTE is defined but never read. It is dead code that a reader has to understand first; delete it.",
    ),
    Rule(
        "MS010",
        "cross-join-without-condition",
        "warn",
        "A join has no `on` or `using` condition (an explicit cross join, or a comma join): every row meets every "
        "row. If that is meant, say so with a comment; usually a join condition is missing.",
    ),
    Rule(
        "MS011",
        "fan-out-join",
        "error",
        "A join's key is not unique on the joined side, checked on the data: each row of the left side meets "
        "several rows on the right, and counts and sums multiply. Join on the key of the one side, deduplicate "
        "the right side first, or aggregate it to the join key.",
    ),
    Rule(
        "MS012",
        "column-dropped-used-downstream",
        "error",
        "A column the base version of the model had is gone (dropped or renamed) while a downstream model still "
        "reads it: the child breaks, or reads a different column of the same name from another table.",
    ),
    Rule(
        "MS013",
        "generated-model-hand-edited",
        "warn",
        "A model martsmith generated (`meta.martsmith`) no longer matches what its recorded request renders to: "
        "it was edited by hand (shown as a diff), or the planner now plans it differently (drift). Hand edits are "
        "lost on the next `martsmith model --force`; record the change in the request or drop the provenance.",
    ),
    Rule(
        "MS014",
        "lint",
        "warn",
        "sqlfluff, with the project's `.sqlfluff`, finds violations (or would reformat the file with `sqlfluff fix`).",
    ),
    Rule(
        "MS015",
        "build-failed",
        "error",
        "The model, or one of its tests, failed when the change and its children were built in the review's "
        "isolated schema. The failing rows' first examples are shown.",
    ),
)
RULE = {r.id: r for r in RULES}


@dataclass
class ReviewFinding:
    rule: str
    model: str
    message: str
    line: int | None = None
    path: str | None = None

    @property
    def severity(self) -> Severity:
        return RULE[self.rule].severity

    @property
    def name(self) -> str:
        return RULE[self.rule].name

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "model": self.model,
            "message": self.message,
            "path": self.path,
            "line": self.line,
        }


# -- the SQL, Jinja stubbed -----------------------------------------------------------------------

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_REF = re.compile(r"^\{\{\s*ref\(\s*(?:'[^']*'\s*,\s*)?'([^']+)'\s*\)\s*\}\}$", re.S)
_SOURCE = re.compile(r"^\{\{\s*source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)\s*\}\}$", re.S)
STUB_PREFIXES = ("__ref__", "__source__")


def stub_jinja(sql: str) -> str:
    """The model's SQL with its Jinja replaced by plain SQL of the same line count.

    >>> stub_jinja("select {{ martsmith.surrogate_key(['a']) }} as k from {{ ref('m') }}")
    'select null as k from __ref__m'
    """

    def sub(match: re.Match) -> str:
        text = match.group(0)
        newlines = "\n" * text.count("\n")
        if m := _REF.match(text):
            return f"__ref__{m.group(1)}" + newlines
        if m := _SOURCE.match(text):
            return f"__source__{m.group(1)}__{m.group(2)}" + newlines
        if text.startswith("{{") and not re.match(r"\{\{\s*config\(", text):
            return "null" + newlines
        return newlines

    return _JINJA.sub(sub, sql)


def parse(sql: str) -> exp.Expr | None:
    """One statement parsed with sqlglot, or None when it cannot be read."""
    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
    except (ParseError, ValueError):
        return None
    return tree


def line_of(sql: str, pattern: str) -> int | None:
    for i, text in enumerate(sql.splitlines(), 1):
        if re.search(pattern, text, flags=re.I):
            return i
    return None


def layer_of(model: ModelState) -> str:
    """staging, intermediate or marts: by folder, else by the name's prefix."""
    parts = model.path.lower().split("/")
    if "staging" in parts or model.name.startswith("stg_"):
        return "staging"
    if "intermediate" in parts or model.name.startswith("int_"):
        return "intermediate"
    return "marts"


def cte_names(tree: exp.Expr) -> list[str]:
    return [c.alias_or_name for c in tree.find_all(exp.CTE)]


def _tables(tree: exp.Expr) -> Iterator[exp.Table]:
    yield from tree.find_all(exp.Table)


def referenced_columns(sql: str) -> set[str]:
    """Lower-cased names of the columns a model's SQL reads (its Jinja stubbed)."""
    tree = parse(stub_jinja(sql))
    if tree is None:  # unreadable: fall back to its words
        return {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    return {c.name.lower() for c in tree.find_all(exp.Column) if c.name}


def _star_over_relation(tree: exp.Expr) -> bool:
    """Whether the final select's columns come, through `select *` CTEs, from a relation."""
    ctes = {c.alias_or_name: c.this for c in tree.find_all(exp.CTE)}
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    seen: set[str] = set()
    while isinstance(select, exp.Select):
        if not any(isinstance(e, exp.Star) for e in select.expressions):
            return False
        source = select.args.get("from_")
        table = source.this if source is not None else None
        if not isinstance(table, exp.Table):
            return False
        name = table.name
        if name in ctes and name not in seen:
            seen.add(name)
            select = ctes[name]
            continue
        return True
    return False


def static_findings(model: ModelState, *, layer: str | None = None) -> list[ReviewFinding]:
    """The rules that read only the model's SQL and properties."""
    layer = layer or layer_of(model)
    out: list[ReviewFinding] = []

    def add(rule: str, message: str, line: int | None = None) -> None:
        out.append(ReviewFinding(rule, model.name, message, line, model.path))

    if layer != "staging" and model.sources:
        names = ", ".join(f"source('{s}', '{t}')" for s, t in model.sources)
        add("MS001", f"{model.name} ({layer}) reads {names} directly", line_of(model.raw_code, r"source\("))
    if layer == "staging":
        own = model.name[4:].split("__")[0] if model.name.startswith("stg_") and "__" in model.name else None
        others = sorted({s for s, _ in model.sources if own and s != own})
        if model.refs or others:
            what = ", ".join([f"ref('{r}')" for r in model.refs] + [f"source '{s}'" for s in others])
            add("MS002", f"staging model {model.name} reads {what}")
    columns_tested: dict[str, set[str]] = {}
    for t in model.tests:
        m = re.fullmatch(r"([\w.]+)\((\w+)\)", t)
        if m:
            columns_tested.setdefault(m.group(2), set()).add(m.group(1))
    has_pk = any({"unique", "not_null"} <= tests for tests in columns_tested.values()) or any(
        "unique_combination_of_columns" in t for t in model.tests
    )
    if not model.tests:
        add("MS005", f"{model.name} has no data tests")
    elif not has_pk:
        add("MS003", f"{model.name} has no unique + not_null test on a key")
    grain = (model.generated or {}).get("grain")
    if not model.description.strip():
        add("MS004", f"{model.name} has no description")
    elif not grain and not re.search(r"\b(one row per|grain)\b", model.description, flags=re.I):
        add("MS004", f'{model.name}\'s description does not state its grain ("One row per ...")')

    sql = stub_jinja(model.raw_code)
    tree = parse(sql)
    if tree is None:
        return out
    ctes = cte_names(tree)
    if layer == "marts" and _star_over_relation(tree):
        add("MS006", f"{model.name}'s final select is `select *` over a relation", line_of(sql, r"select\s+\*"))
    for table in _tables(tree):
        name = table.name
        if table.args.get("db") or table.args.get("catalog"):
            add("MS007", f"{model.name} reads {table.sql(dialect=DIALECT)} by name", line_of(sql, re.escape(name)))
        elif not name.startswith(STUB_PREFIXES) and name not in ctes and not isinstance(table.this, exp.Anonymous):
            add("MS007", f"{model.name} reads {name}, which is neither a CTE, a ref() nor a source()")
    for select in tree.find_all(exp.Select):
        if select.args.get("limit") is not None and select.args.get("order") is None:
            add("MS008", f"{model.name} has a limit without an order by", line_of(sql, r"\blimit\b"))
    used = {t.name for t in _tables(tree)}
    for name in ctes:
        if name not in used:
            add("MS009", f"CTE {name} is never read", line_of(sql, rf"^\s*{re.escape(name)}\s+as\s*\("))
    for join in tree.find_all(exp.Join):
        if join.args.get("on") is None and not join.args.get("using") and not isinstance(join.this, exp.Unnest):
            if isinstance(join.this, exp.Lateral):
                continue
            target = join.this.alias_or_name
            add("MS010", f"the join of {target} has no condition", line_of(sql, rf"\bjoin\s+{re.escape(target)}\b"))
    return out


def _example() -> ModelState:
    """A model with three problems, for the module's doctest."""
    sql = (
        "with\nunused as (select 1 as x),\nfinal as (select * from {{ ref('orders') }})\n"
        "select * from final\nlimit 10\n"
    )
    return ModelState(
        "model.p.m",
        "m",
        "models/marts/m.sql",
        "c",
        raw_code=sql,
        description="One row per order.",
        tests=["unique(id)", "not_null(id)"],
        refs=["orders"],
    )
