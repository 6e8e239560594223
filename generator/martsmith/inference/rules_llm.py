"""Rules in plain words -> data tests, read by an LLM (`martsmith tests --rules ... --llm MODEL`).

The offline grammar (`martsmith.inference.rules`) reads a fixed set of forms; the model reads any
wording. It sees the numbered rules, the tables (columns, types, descriptions, low-cardinality
values, keys and foreign keys) and the tests it may use with their arguments, and answers
`{"tests": [...]}`. Each test is checked like the grammar's output would be: a known test name,
the arguments that test takes, columns that exist, relationship targets in the catalog, every rule
covered. Problems go back to the model (`martsmith.llm.client.complete_structured`).

>>> ALLOWED["martsmith.accepted_range"].arguments
('min_value', 'max_value', 'inclusive')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from martsmith.context.catalog import Catalog, Table
from martsmith.errors import UsageError
from martsmith.llm.client import Provider, complete_structured, parse_json_object, without_titles
from martsmith.plan.prompt import DATA_RULE, MAX_REQUEST_CHARS, cut, data_block, table_facts
from martsmith.spec import TestSpec, argument_problems
from martsmith.validate.expressions import expression_problems

RELATION = re.compile(
    r"""^\s*(?:\{\{\s*)?(?:source\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]\s*\)|ref\(\s*['"](\w+)['"]\s*\))(?:\s*\}\})?\s*$"""
)
DATEPARTS = ("minute", "hour", "day", "week", "month", "year")


@dataclass(frozen=True)
class Allowed:
    """A generic test the model may use: where it applies and its arguments."""

    level: Literal["column", "model", "either"]
    arguments: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    doc: str = ""


ALLOWED: dict[str, Allowed] = {
    "unique": Allowed("column", doc="no two rows share the value"),
    "not_null": Allowed("column", doc="the value is always present"),
    "accepted_values": Allowed("column", ("values",), ("values",), "the value is one of a list"),
    "relationships": Allowed(
        "column",
        ("to", "field"),
        ("to", "field"),
        "every value exists in `field` of `to` (\"source('s', 't')\" or \"ref('m')\")",
    ),
    "martsmith.accepted_range": Allowed(
        "column",
        ("min_value", "max_value", "inclusive"),
        (),
        "min_value and/or max_value (numbers, or 'YYYY-MM-DD' dates in quotes); inclusive defaults to true",
    ),
    "martsmith.not_negative": Allowed("column", doc="the value is >= 0"),
    "martsmith.expression_is_true": Allowed(
        "either",
        ("expression",),
        ("expression",),
        "a SQL boolean expression over the table's columns holds on every row",
    ),
    "martsmith.unique_combination_of_columns": Allowed(
        "model", ("combination_of_columns",), ("combination_of_columns",), "no two rows share these columns together"
    ),
    "martsmith.recency": Allowed(
        "model",
        ("field", "datepart", "interval"),
        ("field", "datepart", "interval"),
        f"the newest `field` is within `interval` `datepart`s ({', '.join(DATEPARTS)}) of now",
    ),
    "martsmith.not_empty": Allowed("model", doc="the table has rows"),
    "martsmith.relationships_where": Allowed(
        "column",
        ("to", "field", "from_condition", "to_condition"),
        ("to", "field"),
        "relationships, only for rows matching the SQL conditions",
    ),
}

SYSTEM_PROMPT = """\
You turn data-quality rules written in plain words into dbt data tests. You answer with ONE JSON \
object and nothing else: no prose, no markdown.

Answer shape:
{{"tests": [{{"rule": 1, "table": "<table>", "name": "<test>", "column": "<column or null>", \
"arguments": {{...}}, "severity": "error"}}]}}

- `rule` is the number of the rule the test implements; every rule gets at least one test.
- `table` is the "label" of one of the tables the rules are about.
- `column` is a column of that table spelled exactly as listed, or null for a table-level test.
- `name` is one of the tests below, with only the arguments listed for it.
- `severity` is "error" unless the rule says it is only a warning.
- {data_rule}

Tests (name [level]: arguments -- meaning):
{tests}
"""

REPAIR_PROMPT = """\
Your answer was not accepted:
{errors}
Fix these problems and reply again with the complete corrected JSON object only."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleTest(_Strict):
    """One test in the model's answer."""

    rule: int = Field(ge=1, description="Number of the rule the test implements.")
    table: str | None = None
    name: str
    column: str | None = None
    arguments: dict = Field(default_factory=dict)
    severity: Literal["error", "warn"] = "error"


class RulesAnswer(_Strict):
    tests: list[RuleTest]


def _tests_help() -> str:
    lines = []
    for name, a in ALLOWED.items():
        args = ", ".join(f"{x}{'' if x in a.required else '?'}" for x in a.arguments) or "none"
        lines.append(f"- {name} [{a.level}]: {args} -- {a.doc}")
    return "\n".join(lines)


def build_messages(rules: list[str], tables: list[Table], catalog: Catalog) -> list[dict]:
    """The contract as the system message; tables and numbered rules as the user's."""
    system = SYSTEM_PROMPT.format(tests=_tests_help(), data_rule=DATA_RULE)
    facts = [{"label": t.label, **table_facts(t, catalog)} for t in tables]
    targets = {fk.ref_table for fk in catalog.foreign_keys if fk.table in {t.label for t in tables}}
    others = [catalog.table(label) for label in sorted(targets - {t.label for t in tables})]
    user = "Tables the rules are about, one JSON object per table:\n" + data_block(*facts) + "\n\n"
    if any(others):
        user += "Tables they point at (relationship targets):\n"
        user += data_block(*[table_facts(t, catalog) for t in others if t is not None]) + "\n\n"
    user += "The rules, numbered (`rule` in your answer is the number):\n"
    user += data_block(*[{"rule": i, "text": cut(r, MAX_REQUEST_CHARS)} for i, r in enumerate(rules, 1)])
    user += "\n\nAnswer with the JSON object only."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def assign_rules_llm(
    rules: list[str],
    tables: list[Table],
    catalog: Catalog,
    *,
    model: str,
    max_attempts: int | None = None,
    timeout: float | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
) -> dict[str, list[TestSpec]]:
    """{label: tests} for `rules` (already split) about `tables`, read by `model`.

    Raises `LLMError` when the model cannot be reached or gives no valid tests in `max_attempts`
    calls. Each test's reason is "rule (llm): <rule text>".
    """
    if not rules:
        raise UsageError("No rules given.", hint='e.g. --rules "amount is never negative"')
    if not tables:
        raise UsageError("Name at least one node for the rules.")

    def parse(text: str) -> RulesAnswer:
        return RulesAnswer.model_validate(parse_json_object(text))

    def check(answer: RulesAnswer) -> list[str]:
        return answer_problems(answer, rules, tables, catalog)

    provider = Provider(model=model, timeout=timeout, api_base=api_base, api_key=api_key, mock_response=mock_response)
    answer = complete_structured(
        build_messages(rules, tables, catalog),
        parse=parse,
        check=check,
        max_attempts=max_attempts,
        **provider,
        what="tests for the rules",
        schema=without_titles(RulesAnswer.model_json_schema()),
        schema_name="rule_tests",
        repair=lambda errors: REPAIR_PROMPT.format(errors="\n".join(f"- {e}" for e in errors)),
        hint="Name the columns in the rules, split long rules with ';', or use a stronger model.",
    )
    return to_test_specs(answer, rules, tables, catalog)


# --- checks ------------------------------------------------------------------------------------


def _table_of(item: RuleTest, tables: list[Table]) -> Table | None:
    if item.table is None:
        return tables[0] if len(tables) == 1 else None
    wanted = item.table.strip().lower()
    return next((t for t in tables if wanted in (t.label.lower(), t.name.lower())), None)


def _qualified(name: str) -> str:
    """'accepted_range' -> 'martsmith.accepted_range': the package's tests go by their full name."""
    name = name.strip()
    return f"martsmith.{name}" if f"martsmith.{name}" in ALLOWED else name


def _columns(t: Table) -> str:
    return ", ".join(c.name for c in t.columns)


def _target(value, catalog: Catalog) -> tuple[Table | None, str]:
    """The catalog table a relationships `to` names, and its canonical spelling."""
    m = RELATION.match(str(value)) if isinstance(value, str) else None
    if not m:
        return None, ""
    if m.group(3):
        t = catalog.table(m.group(3))
        return t, f"ref('{m.group(3)}')"
    t = catalog.table(f"source:{m.group(1)}.{m.group(2)}")
    return t, f"source('{m.group(1)}', '{m.group(2)}')"


def _expression_columns(expression: str) -> list[str] | None:
    """Column names the SQL expression reads; None when it does not parse."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expression)
    except Exception:  # noqa: BLE001 - sqlglot raises several error types
        return None
    return [c.name for c in tree.find_all(exp.Column)]


def _item_problems(i: int, item: RuleTest, rules: list[str], tables: list[Table], catalog: Catalog) -> list[str]:
    where = f"tests[{i}]"
    out: list[str] = []
    if item.rule > len(rules):
        out.append(f"{where}.rule: there is no rule {item.rule} (rules are numbered 1 to {len(rules)})")
    table = _table_of(item, tables)
    if table is None:
        labels = ", ".join(t.label for t in tables)
        return out + [f"{where}.table: {item.table!r} is not one of the tables: {labels}"]
    name = _qualified(item.name)
    allowed = ALLOWED.get(name)
    if allowed is None:
        return out + [f"{where}.name: unknown test {item.name!r}; use one of: {', '.join(ALLOWED)}"]
    if item.column is not None and table.column(item.column) is None:
        out.append(
            f"{where}.column: column '{item.column}' does not exist in {table.label}; columns are: {_columns(table)}"
        )
    if allowed.level == "column" and item.column is None:
        out.append(f"{where}: {name} is a column test: set `column`")
    if allowed.level == "model" and item.column is not None:
        out.append(f"{where}: {name} is a table-level test: set `column` to null")
    args = item.arguments
    for extra in sorted(set(args) - set(allowed.arguments)):
        takes = ", ".join(allowed.arguments) or "no arguments"
        out.append(f"{where}.arguments: {name} takes no argument {extra!r} (it takes: {takes})")
    for need in allowed.required:
        if args.get(need) in (None, "", []):
            out.append(f"{where}.arguments: {name} needs {need!r}")
    out += _argument_problems(where, name, args, table, catalog)
    out += [p for p in _typed_problems(where, name, args, item.column, table, catalog) if p not in out]
    return out


def _typed_problems(where: str, name: str, args: dict, column: str | None, table: Table, catalog: Catalog) -> list[str]:
    """The arguments as TestSpec will type them (no Jinja, safe SQL expressions), with the
    expressions' columns checked against the table."""
    typed = dict(args)
    if "to" in typed:
        typed["to"] = _target(typed["to"], catalog)[1]
    out = [f"{where}.arguments.{p}" for p in argument_problems(name, typed, column)]
    columns = {c.name for c in table.columns}
    for key in ("expression", "from_condition"):
        if isinstance(args.get(key), str) and not out:
            expr = f"{column} {args[key]}" if key == "expression" and column else args[key]
            out += [f"{where}.arguments.{key}: {p}" for p in expression_problems(expr, columns=columns)]
    return out


def _argument_problems(where: str, name: str, args: dict, table: Table, catalog: Catalog) -> list[str]:
    out: list[str] = []
    if name == "accepted_values" and "values" in args:
        values = args["values"]
        if not isinstance(values, list) or not values or any(isinstance(v, (dict, list)) for v in values):
            out.append(f"{where}.arguments.values: a non-empty list of plain values")
    if name == "martsmith.accepted_range":
        if args.get("min_value") is None and args.get("max_value") is None:
            out.append(f"{where}.arguments: martsmith.accepted_range needs min_value or max_value")
        if "inclusive" in args and not isinstance(args["inclusive"], bool):
            out.append(f"{where}.arguments.inclusive: true or false")
    if name in ("relationships", "martsmith.relationships_where") and args.get("to"):
        target, _ = _target(args["to"], catalog)
        if target is None:
            out.append(f"{where}.arguments.to: {args['to']!r} is not a known source('s', 't') or ref('m')")
        elif args.get("field") and target.column(str(args["field"])) is None:
            out.append(
                f"{where}.arguments.field: column '{args['field']}' does not exist in {target.label}; "
                f"columns are: {_columns(target)}"
            )
    if name == "martsmith.expression_is_true" and args.get("expression"):
        expression = str(args["expression"])
        used = _expression_columns(expression) if not re.search(r"[;{}]", expression) else None
        if used is None:
            out.append(f"{where}.arguments.expression: {expression!r} is not one SQL boolean expression")
        else:
            for col in dict.fromkeys(used):
                if table.column(col) is None:
                    out.append(
                        f"{where}.arguments.expression: column '{col}' does not exist in {table.label}; "
                        f"columns are: {_columns(table)}"
                    )
    if name == "martsmith.unique_combination_of_columns" and args.get("combination_of_columns"):
        cols = args["combination_of_columns"]
        if not isinstance(cols, list) or len(cols) < 2:
            out.append(f"{where}.arguments.combination_of_columns: a list of at least two columns")
        else:
            out += [
                f"{where}.arguments.combination_of_columns: column '{c}' does not exist in {table.label}; "
                f"columns are: {_columns(table)}"
                for c in cols
                if table.column(str(c)) is None
            ]
    if name == "martsmith.recency":
        if args.get("field") and table.column(str(args["field"])) is None:
            out.append(
                f"{where}.arguments.field: column '{args['field']}' does not exist in {table.label}; "
                f"columns are: {_columns(table)}"
            )
        if args.get("datepart") and args["datepart"] not in DATEPARTS:
            out.append(f"{where}.arguments.datepart: one of {', '.join(DATEPARTS)}")
        if args.get("interval") is not None and not (isinstance(args["interval"], int) and args["interval"] > 0):
            out.append(f"{where}.arguments.interval: a positive whole number")
    return out


def answer_problems(answer: RulesAnswer, rules: list[str], tables: list[Table], catalog: Catalog) -> list[str]:
    """Everything wrong with an answer, as sentences the model can act on (empty: accepted)."""
    out: list[str] = []
    for i, item in enumerate(answer.tests):
        out += _item_problems(i, item, rules, tables, catalog)
    covered = {item.rule for item in answer.tests}
    out += [
        f"rule {n} ({rule!r}) has no test: express it with the tests listed"
        for n, rule in enumerate(rules, 1)
        if n not in covered
    ]
    return out


def to_test_specs(
    answer: RulesAnswer, rules: list[str], tables: list[Table], catalog: Catalog
) -> dict[str, list[TestSpec]]:
    """A checked answer as {label: [TestSpec]}: names qualified, columns and targets spelled as in
    the catalog, duplicates dropped."""
    out: dict[str, list[TestSpec]] = {t.label: [] for t in tables}
    seen: set[str] = set()
    for item in answer.tests:
        table = _table_of(item, tables)
        assert table is not None  # checked
        column = table.column(item.column).name if item.column else None  # type: ignore[union-attr]
        args = dict(item.arguments)
        if "to" in args:
            args["to"] = _target(args["to"], catalog)[1]
        spec = TestSpec(
            name=_qualified(item.name),
            column=column,
            arguments=args,
            severity=item.severity,
            reason=f"rule (llm): {rules[item.rule - 1]}",
        )
        key = json.dumps([table.label, spec.name, spec.column, spec.arguments], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out[table.label].append(spec)
    return out
