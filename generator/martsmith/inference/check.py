"""Run each candidate test against the data before it is written: one query per test.

A test the data passes is kept as is. A test the data violates becomes a *finding* in plain
words with up to `MAX_EXAMPLES` example keys of the offending rows ("3 order items have a
negative quantity (ids: 17, 204, 811)"); it is written (severity warn) only on request.

The SQL is DuckDB's (the warehouse martsmith reads); each query mirrors the generic test's
failing-rows condition, so "passes here" means "passes in dbt".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from martsmith.context.catalog import Catalog, Table
from martsmith.context.warehouse import Warehouse, quote
from martsmith.errors import WarehouseError
from martsmith.inference import evidence as ev
from martsmith.profiling.types import TableProfile
from martsmith.spec import TestSpec
from martsmith.validate.expressions import expression_problems

RELATION_ARG = re.compile(r"""^\s*(source|ref)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$""")


@dataclass
class CheckResult:
    test: TestSpec
    failures: int = 0
    examples: list[Any] = field(default_factory=list)
    message: str = ""  # the finding, in plain words, when failures > 0
    dropped: str = ""  # why the candidate is not a test at all (e.g. not really a foreign key)

    @property
    def passed(self) -> bool:
        return self.failures == 0 and not self.dropped

    def as_dict(self) -> dict:
        return {
            "test": self.test.name,
            "column": self.test.column,
            "failures": self.failures,
            "examples": self.examples,
            "message": self.message or self.dropped,
        }


def example_key(table: Table, profile: TableProfile) -> str | None:
    """The column that names a row in messages: the primary key, else the first single key."""
    names = {c.name for c in profile.columns}
    if table.primary_key and table.primary_key in names:
        return table.primary_key
    for name in ev.primary_key_names(table.name):
        col = profile.column(name)
        if col is not None:
            return col.name
    singles = [k[0] for k in profile.key_candidates if len(k) == 1]
    return singles[0] if singles else None


def parent_relation(catalog: Catalog, argument: str) -> Table | None:
    m = RELATION_ARG.match(str(argument))
    if not m:
        return None
    kind, first, second = m.groups()
    label = f"source:{first}.{second}" if kind == "source" else first
    return catalog.table(label)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def failing_condition(test: TestSpec, catalog: Catalog) -> str | None:
    """The WHERE condition of the rows a row-level test fails on (None: not row-level)."""
    col = quote(test.column) if test.column else None
    args = test.arguments
    name = test.name.split(".")[-1]
    if name == "not_null":
        return f"{col} is null"
    if name == "not_negative":
        return f"{col} < 0"
    if name == "accepted_values":
        values = ", ".join(_literal(v) for v in args.get("values", []))
        return f"{col} is not null and {col} not in ({values})"
    if name == "accepted_range":
        eq = "=" if args.get("inclusive", True) else ""
        parts = []
        if args.get("min_value") is not None:
            parts.append(f"not ({col} >{eq} {args['min_value']})")
        if args.get("max_value") is not None:
            parts.append(f"not ({col} <{eq} {args['max_value']})")
        return " or ".join(parts) or "false"
    if name == "expression_is_true":
        expr = args["expression"]
        return f"not ({col} {expr})" if col else f"not ({expr})"
    if name == "relationships":
        parent = parent_relation(catalog, args.get("to", ""))
        if parent is None:
            return None
        field_ = quote(str(args.get("field")))
        return (
            f"{col} is not null and not exists (select 1 from {parent.relation} as parent "
            f"where parent.{field_} = {col})"
        )
    return None


ORPHAN = "_martsmith_parent.k is null"


def _orphans_relation(test: TestSpec, catalog: Catalog, relation: str) -> str | None:
    """A relationships test's rows joined to the parent's keys (a left join, not the NOT EXISTS
    of `failing_condition`: Spark refuses a subquery inside an aggregate's FILTER); rows whose
    key is not null and `_martsmith_parent.k` is null are orphans."""
    if test.name != "relationships" or not test.column:
        return None
    parent = parent_relation(catalog, (test.arguments or {}).get("to", ""))
    if parent is None:
        return None
    field_ = quote(str((test.arguments or {}).get("field")))
    col = quote(test.column)
    return (
        f"{relation} as child left join (select distinct {field_} as k from {parent.relation} "
        f"where {field_} is not null) as _martsmith_parent on _martsmith_parent.k = child.{col} "
        f"and child.{col} is not null"
    )


def _row_query(relation: str, condition: str, key: str | None, test: TestSpec, source: str | None = None) -> str:
    """Failures and examples of a row-level test; `source` replaces `relation as child`."""
    shown = quote(key) if key else (quote(test.column) if test.column else "rowid")
    return (
        f"select count(*) filter (where {condition}), "
        f"min({shown}, {ev.MAX_EXAMPLES}) filter (where {condition}) from {source or relation + ' as child'}"
    )


def _duplicates_query(relation: str, columns: list[str]) -> str:
    cols = ", ".join(quote(c) for c in columns)
    value = quote(columns[0]) if len(columns) == 1 else f"({cols})"
    return (
        f"select count(*), min(v, {ev.MAX_EXAMPLES}) from (select {value} as v from {relation} "
        f"where {' and '.join(quote(c) + ' is not null' for c in columns)} group by {cols} having count(*) > 1)"
    )


def _fmt(values: list[Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, dict):
            return "(" + ", ".join(str(x) for x in v.values()) + ")"
        if isinstance(v, tuple):
            return "(" + ", ".join(str(x) for x in v) + ")"
        return str(v)

    return ", ".join(one(v) for v in values)


def _a(word: str | None) -> str:
    return f"{'an' if str(word)[:1].lower() in 'aeiou' else 'a'} {word}"


def describe(result: CheckResult, table: Table, key: str | None, catalog: Catalog) -> str:
    """The finding in plain words."""
    t, n = result.test, result.failures
    rows = ev.count_of(n, table.name)
    have = "has" if n == 1 else "have"
    ids = (
        f" ({key}s: {_fmt(result.examples)})"
        if key and result.examples
        else (f" (e.g. {_fmt(result.examples)})" if result.examples else "")
    )
    name = t.name.split(".")[-1]
    if name == "unique":
        return f"{t.column} is not unique: {n:,} duplicated value{'s' if n != 1 else ''} (e.g. {_fmt(result.examples)})"
    if name == "unique_combination_of_columns":
        cols = ", ".join(t.arguments.get("combination_of_columns", []))
        return f"({cols}) is not unique: {n:,} duplicated combination{'s' if n != 1 else ''} (e.g. {_fmt(result.examples)})"
    if name == "not_null":
        return f"{rows} {have} no {t.column}{ids}"
    if name == "not_negative":
        return f"{rows} {have} a negative {t.column}{ids}"
    if name == "relationships":
        parent = parent_relation(catalog, t.arguments.get("to", ""))
        what = ev.entity_words(parent.name, 1) if parent else str(t.arguments.get("to"))
        point = "points" if n == 1 else "point"
        where = f" in {parent.label}" if parent else ""
        return f"{rows} {point} to no {what}{where}{ids}"
    if name == "accepted_values":
        shown = ", ".join(str(v) for v in t.arguments.get("values", []))
        return f"{rows} {have} {_a(t.column)} other than {shown}{ids}"
    if name == "accepted_range":
        lo, hi = t.arguments.get("min_value"), t.arguments.get("max_value")
        strict = t.arguments.get("inclusive", True) is False
        if hi is None:
            bound = f"{'not above' if strict else 'below'} {lo}"
        elif lo is None:
            bound = f"{'not below' if strict else 'above'} {hi}"
        else:
            bound = f"outside {'(' if strict else '['}{lo}, {hi}{')' if strict else ']'}"
        return f"{rows} {have} {_a(t.column)} {bound}{ids}"
    if (
        name == "expression_is_true"
        and t.column
        and str(t.arguments.get("expression", "")).replace(" ", "") == f"=trim({t.column})"
    ):
        return f"{rows} {have} spaces around {t.column}{ids}"
    if name == "expression_is_true":
        expr = f"{t.column} {t.arguments.get('expression')}" if t.column else t.arguments.get("expression")
        return f"{rows} break `{expr}`{ids}"
    if name == "recency":
        a = t.arguments
        return f"the newest {a.get('field')} is {_fmt(result.examples)}: older than {a.get('interval')} {a.get('datepart')}s"
    if name == "not_empty":
        return "the table is empty"
    return f"{t.name} fails on {rows}{ids}"


def _counted_query(test: TestSpec, table: Table, key: str | None, catalog: Catalog) -> str | None:
    """The query giving (failures, examples) of a test that counts failing rows or values;
    None for the other tests (recency, not_empty) and for tests with nothing to check here."""
    relation = table.relation
    name = test.name.split(".")[-1]
    if name == "unique" and test.column:
        return _duplicates_query(relation, [test.column])
    if name == "unique_combination_of_columns":
        return _duplicates_query(relation, list(test.arguments.get("combination_of_columns", [])))
    if name in ("recency", "not_empty"):
        return None
    joined = _orphans_relation(test, catalog, relation)
    condition = failing_condition(test, catalog) if joined is None else ORPHAN
    if condition is None:
        return None
    return _row_query(relation, condition, key, test, joined)


def _run_one(
    wh: Warehouse, test: TestSpec, table: Table, key: str | None, catalog: Catalog
) -> tuple[int, list[Any]] | None:
    relation = table.relation
    name = test.name.split(".")[-1]
    if name == "recency":
        a = test.arguments
        field_ = quote(str(a["field"]))
        row = wh.query(
            f"select count(*) filter (where newest is null or newest < now()::timestamp - "
            f"interval {int(a['interval'])} {a['datepart']}), list(newest) from "
            f"(select max({field_})::timestamp as newest from {relation})"
        )[0]
    elif name == "not_empty":
        (count,) = wh.query(f"select count(*) from (select 1 from {relation} limit 1)")[0]
        row = (0 if count else 1, [])
    else:
        sql = _counted_query(test, table, key, catalog)
        if sql is None:
            return None
        row = wh.query(sql)[0]
    failures, examples = int(row[0] or 0), list(row[1] or [])
    return failures, examples if failures else []


def _passing_at_once(wh: Warehouse, tests: list[TestSpec], table: Table, key: str | None, catalog: Catalog) -> set[int]:
    """Where each query is a job (`wh.batch_queries`: Spark), the failure counts of the tests
    that count failing rows, in one UNION ALL: the indexes (into `tests`) of those that pass.
    The others, and every test if the union fails, are checked one by one (a failing one then
    runs again on its own, for its examples)."""
    if not wh.batch_queries:
        return set()
    queries = {
        i: q
        for i, t in enumerate(tests)
        if not unsafe_expression(t, table) and (q := _counted_query(t, table, key, catalog)) is not None
    }
    if len(queries) < 2:
        return set()
    union = " union all ".join(f"select {i} as i, f from ({q}) as q{i}(f, e)" for i, q in queries.items())
    try:
        with wh.read_only():  # a check reads; nothing it runs may persist
            rows = wh.query(union)
    except WarehouseError:
        return set()
    return {int(i) for i, failures in rows if not failures}


def unsafe_expression(test: TestSpec, table: Table) -> str | None:
    """Why a test's SQL expressions must not run here (None: they may). martsmith runs a test's
    condition itself before writing it, so an expression is checked first: one scalar expression
    over the table's own columns, no file or environment functions (validate/expressions.py)."""
    columns = {c.name for c in table.columns}
    args = test.arguments
    exprs = []
    if isinstance(args.get("expression"), str):
        exprs.append(f"{test.column} {args['expression']}" if test.column else args["expression"])
    if isinstance(args.get("from_condition"), str):
        exprs.append(args["from_condition"])
    for bound in ("min_value", "max_value"):
        if isinstance(args.get(bound), str):
            problems = expression_problems(args[bound], columns=set(), what="range bound")
            if problems:
                return "; ".join(problems)
    for expr in exprs:
        problems = expression_problems(expr, columns=columns)
        if problems:
            return "; ".join(problems)
    return None


def check_tests(
    wh: Warehouse, table: Table, profile: TableProfile, tests: list[TestSpec], catalog: Catalog
) -> list[CheckResult]:
    """Run every test against the data (one query each, or one for all that pass where queries
    are jobs: `_passing_at_once`); tests that can't be checked here (another package's generic
    test) are kept unchecked, as passing."""
    key = example_key(table, profile)
    inferred_fks = {(fk.column) for fk in catalog.foreign_keys if fk.table == table.label and fk.origin == "inferred"}
    out = []
    passing = _passing_at_once(wh, tests, table, key, catalog)
    for index, test in enumerate(tests):
        result = CheckResult(test)
        unsafe = unsafe_expression(test, table)
        if unsafe:
            result.dropped = f"{test.name} on {table.label} not used: {unsafe}"
            out.append(result)
            continue
        if index in passing:
            out.append(result)  # no failures: nothing more to ask
            continue
        with wh.read_only():  # a check reads; nothing it runs may persist
            ran = _run_one(wh, test, table, key, catalog)
        if ran is not None:
            result.failures, result.examples = ran
        if result.failures:
            result.message = describe(result, table, key, catalog)
            if test.name == "relationships" and test.column in inferred_fks and not test.reason.startswith("rule"):
                col = profile.column(test.column)
                non_null = profile.row_count - (col.null_count if col else 0)
                if non_null and result.failures > ev.MAX_ORPHAN_SHARE * non_null:
                    result.dropped = (
                        f"{test.column} is not a foreign key after all: {result.failures:,} of "
                        f"{non_null:,} values have no match in {test.arguments.get('to')}"
                    )
        out.append(result)
    return out
