"""The one rule for text that reaches a dbt file: it carries no Jinja martsmith did not mean.

dbt renders almost every string of a project as Jinja: model SQL, every YAML value (`meta` and
`config` at parse time, descriptions when docs are processed, test arguments when the test
compiles, unit-test rows), and it wraps a test argument that *looks like* a call of `ref`,
`source`, `var`, `env_var` or `doc` in `{{ }}` before rendering it. So a value read from the
warehouse, a word of a request or a field of a model answer must never reach a file as is.

Two treatments, by what the text is:

- **prose** (descriptions, the request, notes) is made inert: every `{` that would open a Jinja
  tag gets a space after it, so `{{ x }}` is written `{ { x }}` — still readable, never executed;
- **data** (accepted values, filter literals, fixture rows, names) is *refused*: a value with
  template delimiters is not a value martsmith can test or filter on, and changing it would
  make the test wrong. `data_problem()` says why, for the caller's finding.

>>> inert("Revenue {{ run_query('drop schema raw') }} {%- if x %}")
"Revenue { { run_query('drop schema raw') }} { %- if x %}"
>>> data_problem("completed") is None
True
>>> data_problem("{{ run_query('drop schema raw cascade') }}")
'contains template delimiters ({{, {% or {#)'
>>> data_problem("env_var('HOME')")
'looks like a call of env_var(): dbt would run it as Jinja'
"""

from __future__ import annotations

import re
from typing import Any

TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")
TEMPLATE_DELIMITER = re.compile(r"\{[{%#]|[}%#]\}")
# dbt's own test (dbt/clients/jinja.py, add_rendered_test_kwargs): a string argument matching
# this is wrapped in {{ }} and rendered, so it is code, not data.
DBT_FUNCTION_LIKE = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$", re.DOTALL)
# The only call-looking strings martsmith writes itself: the `to:` of a relationships test.
RELATION_STRING = re.compile(
    r"^(?:ref\('[A-Za-z_][A-Za-z0-9_$]*'\)|source\('[A-Za-z_][A-Za-z0-9_$]*', '[A-Za-z_][A-Za-z0-9_$]*'\))$"
)


def has_template(text: str) -> bool:
    """Whether `text` contains a Jinja opening or closing delimiter."""
    return bool(TEMPLATE_DELIMITER.search(text))


def inert(text: str) -> str:
    """Prose that dbt will render, with every Jinja opening broken (`{{` -> `{ {`)."""
    return TEMPLATE_OPEN.sub("{ ", text)


def data_problem(value: Any) -> str | None:
    """Why `value` cannot be written as data into a dbt file (None: it can)."""
    if not isinstance(value, str):
        return None
    if TEMPLATE_OPEN.search(value):
        return "contains template delimiters ({{, {% or {#)"
    m = DBT_FUNCTION_LIKE.match(value)
    if m:
        return f"looks like a call of {m.group(1)}(): dbt would run it as Jinja"
    return None


def is_relation_string(value: str) -> bool:
    """`ref('name')` or `source('source', 'table')`, exactly as martsmith writes them."""
    return bool(RELATION_STRING.match(value))


def inert_all(value: Any) -> Any:
    """`inert()` applied to every string in a nested structure of lists and dicts."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, list):
        return [inert_all(v) for v in value]
    if isinstance(value, dict):
        return {k: inert_all(v) for k, v in value.items()}
    return value
