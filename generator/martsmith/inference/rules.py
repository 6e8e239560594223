"""Rules in plain words -> data tests, with a small offline grammar.

Rules are separated by `;` or new lines. Each must take one of these forms (X, A, B are column
names in words: 'ship date' finds shipped_at, 'order date' ordered_at or order_date):

    X is never negative | is not negative | is non-negative   -> martsmith.not_negative
    X is positive | is always positive                        -> accepted_range min 0, exclusive
    X is one of a, b and c                                    -> accepted_values
    X is never null | is required | is always present         -> not_null
    X is unique | is never duplicated                         -> unique
    X is between A and B                                      -> accepted_range
    X is at least A | is at most B                            -> accepted_range
    every <entity> has a <entity2>                            -> not_null + relationships
    A is after B | A is before B (also: on or after/before)   -> expression_is_true (A >= B)

"every order has a customer" follows the foreign key from the entity's table to entity2's
(`catalog.foreign_keys`). A rule that fits no form, or names a column that is not there, is an
error naming the rule and the accepted forms: nothing is guessed.

>>> from martsmith.context.catalog import Catalog, Column, Table
>>> t = Table("source", "orders", "raw", "orders", source_name="shop",
...     columns=[Column("id", "INTEGER"), Column("ordered_at", "TIMESTAMP"), Column("shipped_at", "TIMESTAMP")])
>>> [s.arguments for s in parse_rules("ship date is after order date", t, Catalog([t]))]
[{'expression': 'shipped_at >= ordered_at'}]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from martsmith.context.catalog import Catalog, Table, entity_of, singular
from martsmith.errors import RulesError
from martsmith.inference.infer import relation_argument
from martsmith.inference.rules_llm import assign_rules_llm
from martsmith.spec import TestSpec

FORMS = (
    "X is never negative",
    "X is positive",
    "X is one of a, b, c",
    "X is never null / is required / is always present",
    "X is unique",
    "X is between A and B",
    "X is at least A / at most B",
    "every <entity> has a <entity>",
    "A is after B / A is before B",
)
TIME_WORDS = {"date", "time", "at", "timestamp", "ts", "on", "day", "datetime"}
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ t]\d{2}:\d{2}(:\d{2})?)?$")


def _stem(word: str) -> str:
    """shipped -> ship, orders -> order, created -> creat, statuses -> status."""
    w = word.lower()
    if w in TIME_WORDS:
        return "@time"
    if w.endswith("uses"):
        w = w[:-2]
    elif w != "status":
        w = singular(w)
        if len(w) == 3 and w.endswith("s") and w not in ("gas", "bus", "yes"):
            w = w[:-1]  # ids -> id
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in re.split(r"[\s_\-]+", text.strip().lower()) if w)


def link_column(phrase: str, table: Table, rule: str) -> str:
    """The column of `table` that `phrase` names; RulesError when none or several do."""
    words = phrase.strip().strip("'\"`").lower()
    names = [c.name for c in table.columns]
    exact = [n for n in names if n.lower() == words.replace(" ", "_")]
    if exact:
        return exact[0]
    want = _tokens(words)
    same = [n for n in names if _tokens(n) == want]
    if len(same) == 1:
        return same[0]
    # 'customer' -> customer_id; 'ship' -> shipped_at: the words plus an id/time suffix.
    loose = [n for n in names if set(want) <= set(_tokens(n)) and len(_tokens(n)) <= len(want) + 1]
    if len(same) > 1 or len(loose) > 1:
        raise RulesError(
            rule, f"'{phrase}' could be {', '.join(same or loose)} in {table.label}: name the column", forms=FORMS
        )
    if loose:
        return loose[0]
    close = difflib.get_close_matches(words.replace(" ", "_"), names, n=3, cutoff=0.4)
    hint = f" (closest: {', '.join(close)})" if close else ""
    raise RulesError(rule, f"no column of {table.label} matches '{phrase}'{hint}", forms=FORMS)


def _value(text: str, numeric: bool) -> str | int | float:
    v = text.strip().strip("'\"`")
    if numeric and NUMBER.match(v):
        return float(v) if "." in v else int(v)
    return v


def _bound(text: str, rule: str) -> str | int | float:
    v = text.strip().strip("'\"")
    if NUMBER.match(v):
        return float(v) if "." in v else int(v)
    if DATE.match(v):
        return f"'{v}'"
    raise RulesError(rule, f"'{text.strip()}' is not a number or a date (YYYY-MM-DD)", forms=FORMS)


def _split_values(text: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+(?:and|or)\s+", text.strip())
    return [p for p in (p.strip() for p in parts) if p]


@dataclass
class Rule:
    pattern: re.Pattern
    build: Callable[[dict[str, str | None], Table, Catalog, str], list[TestSpec]]  # the named groups of the match


def _why(rule: str) -> str:
    return f'rule: "{rule}"'


def _not_negative(m, t, c, rule):
    return [TestSpec(name="martsmith.not_negative", column=link_column(m["x"], t, rule), reason=_why(rule))]


def _positive(m, t, c, rule):
    col = link_column(m["x"], t, rule)
    return [
        TestSpec(
            name="martsmith.accepted_range",
            column=col,
            arguments={"min_value": 0, "inclusive": False},
            reason=_why(rule),
        )
    ]


def _one_of(m, t, c, rule):
    col = link_column(m["x"], t, rule)
    numeric = (t.column(col).family == "number") if t.column(col) else False
    values = [_value(v, numeric) for v in _split_values(m["values"])]
    if not values:
        raise RulesError(rule, "no values after 'one of'", forms=FORMS)
    return [TestSpec(name="accepted_values", column=col, arguments={"values": values}, reason=_why(rule))]


def _not_null(m, t, c, rule):
    return [TestSpec(name="not_null", column=link_column(m["x"], t, rule), reason=_why(rule))]


def _unique(m, t, c, rule):
    return [TestSpec(name="unique", column=link_column(m["x"], t, rule), reason=_why(rule))]


def _between(m, t, c, rule):
    col = link_column(m["x"], t, rule)
    lo, hi = _bound(m["a"], rule), _bound(m["b"], rule)
    return [
        TestSpec(
            name="martsmith.accepted_range", column=col, arguments={"min_value": lo, "max_value": hi}, reason=_why(rule)
        )
    ]


def _at_least(m, t, c, rule):
    col = link_column(m["x"], t, rule)
    key = "min_value" if m["dir"] == "least" else "max_value"
    return [
        TestSpec(name="martsmith.accepted_range", column=col, arguments={key: _bound(m["a"], rule)}, reason=_why(rule))
    ]


def _order(m, t, c, rule):
    a = link_column(m["a"], t, rule)
    b_text = m["b"].strip()
    try:
        b = link_column(b_text, t, rule)
    except RulesError:
        if not DATE.match(b_text.strip("'\"")):
            raise
        b = f"'{b_text.strip(chr(39) + chr(34))}'"
    op = ">=" if m["dir"] == "after" else "<="
    return [TestSpec(name="martsmith.expression_is_true", arguments={"expression": f"{a} {op} {b}"}, reason=_why(rule))]


def _every(m, t, c, rule):
    child_ent, parent_ent = singular(m["a"].strip().replace(" ", "_")), singular(m["b"].strip().replace(" ", "_"))
    if entity_of(t.name) != child_ent:
        raise _NotThisTable()
    for fk in c.foreign_keys:
        parent = c.table(fk.ref_table)
        if fk.table == t.label and parent is not None and entity_of(parent.name) == parent_ent:
            args = {"to": relation_argument(parent), "field": fk.ref_column}
            return [
                TestSpec(name="not_null", column=fk.column, reason=_why(rule)),
                TestSpec(name="relationships", column=fk.column, arguments=args, reason=_why(rule)),
            ]
    col = link_column(f"{parent_ent} id", t, rule)
    raise RulesError(
        rule, f"{t.label}.{col} points to no known {parent_ent} table (no foreign key in the catalog)", forms=FORMS
    )


class _NotThisTable(Exception):
    """The rule is about another of the nodes given."""


X = r"(?:the\s+)?(?P<x>[a-z][\w ]*?)"
RULES: tuple[Rule, ...] = (
    Rule(
        re.compile(
            r"^(?:every|each|all)\s+(?P<a>[a-z][\w ]*?)\s+(?:has|have|belongs to|belong to)\s+(?:an?|one|the)\s+(?P<b>[a-z][\w ]*)$"
        ),
        _every,
    ),
    Rule(
        re.compile(
            rf"^{X}\s+(?:is|are)\s+(?:never negative|not negative|non-?negative|never below zero|never less than zero)$"
        ),
        _not_negative,
    ),
    Rule(re.compile(rf"^{X}\s+(?:is|are)\s+(?:always\s+|strictly\s+)?positive$"), _positive),
    Rule(re.compile(rf"^{X}\s+(?:is|are)\s+(?:always\s+)?(?:one of|in)\s*:?\s*(?P<values>.+)$"), _one_of),
    Rule(
        re.compile(
            rf"^{X}\s+(?:is|are)\s+(?:never null|not null|never empty|never missing|required|always present|always set|always filled)$"
        ),
        _not_null,
    ),
    Rule(re.compile(rf"^{X}\s+(?:is|are)\s+(?:always\s+)?(?:unique|never duplicated|distinct)$"), _unique),
    Rule(re.compile(rf"^{X}\s+(?:is|are)\s+(?:always\s+)?between\s+(?P<a>\S+)\s+and\s+(?P<b>\S+)$"), _between),
    Rule(re.compile(rf"^{X}\s+(?:is|are)\s+(?:always\s+)?at (?P<dir>least|most)\s+(?P<a>\S+)$"), _at_least),
    Rule(
        re.compile(
            r"^(?:the\s+)?(?P<a>[a-z][\w ]*?)\s+(?:is|are|comes?)\s+(?:always\s+)?(?:on or\s+|not\s+)?"
            r"(?P<dir>after|before|later than|earlier than)\s+(?:the\s+)?(?P<b>.+)$"
        ),
        _order,
    ),
)


def split_rules(text: str) -> list[str]:
    return [r.strip().rstrip(".").strip() for r in re.split(r"[;\n]+", text or "") if r.strip().rstrip(".").strip()]


def _apply(rule: str, table: Table, catalog: Catalog) -> list[TestSpec]:
    words = re.sub(r"\s+", " ", rule.lower())
    for r in RULES:
        m = r.pattern.match(words)
        if not m:
            continue
        groups: dict[str, str | None] = m.groupdict()
        if groups.get("dir") in ("later than", "earlier than"):
            groups = {**groups, "dir": "after" if groups["dir"] == "later than" else "before"}
        if "not " in words and groups.get("dir") and re.search(r"\bnot (after|before)\b", words):
            flipped = "before" if groups["dir"] == "after" else "after"
            groups = {**groups, "dir": flipped}
        try:
            return r.build(groups, table, catalog, rule)
        except ValidationError as exc:
            # A value or bound the test cannot carry (Jinja, a file-reading function, ...).
            problem = "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors())
            raise RulesError(rule, problem, forms=FORMS) from None
    raise RulesError(rule, "it fits none of the accepted forms", forms=FORMS)


def parse_rules(text: str, table: Table, catalog: Catalog, *, llm_model: str | None = None) -> list[TestSpec]:
    """Tests for the rules in `text`, about one table."""
    return assign_rules(text, [table], catalog, llm_model=llm_model)[table.label]


def assign_rules(
    text: str, tables: list[Table], catalog: Catalog, *, llm_model: str | None = None
) -> dict[str, list[TestSpec]]:
    """{label: tests} for the rules in `text`: each rule goes to the first table it can be
    read against (whose columns, or entity for "every X has a Y", it names)."""
    if llm_model:
        return assign_rules_llm(split_rules(text), tables, catalog, model=llm_model)
    out: dict[str, list[TestSpec]] = {t.label: [] for t in tables}
    for rule in split_rules(text):
        first_error: RulesError | None = None
        placed = False
        for table in tables:
            try:
                out[table.label] += _apply(rule, table, catalog)
                placed = True
                break
            except _NotThisTable:
                continue
            except RulesError as exc:
                if "fits none" in exc.message:
                    raise
                first_error = first_error or exc
        if not placed:
            if first_error is not None:
                raise first_error
            labels = ", ".join(t.label for t in tables)
            raise RulesError(rule, f"it is about none of {labels}", forms=FORMS)
    return out
