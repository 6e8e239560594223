"""The last check before a file is written: it may contain only the Jinja martsmith means.

Every generated file is parsed the way dbt will read it, and anything but the allowed Jinja is a
finding that fails the run before dbt sees the file:

- **SQL**: only `{{ ... }}` expressions (no `{% %}` statements), each a call of `ref`, `source`,
  `martsmith.<public macro>` or `dbt.<cross-database macro>`, with literal arguments only
  (strings, numbers, lists of them; a martsmith macro that takes a relation may also take
  `ref('m')` / `source('s', 't')` of literal names, as `martsmith.deduplicate` does).
  `config()` is allowed with the keys martsmith writes and literal values (never hooks). No
  names, attributes, filters, conditionals or other nested calls: an argument that closes its
  string and opens an expression (`x'] if config(...) else ['`) is no longer a literal.
- **YAML**: no string (key or value) with template delimiters and no string that dbt would
  treat as a call (`env_var(...)`, `var(...)`, ...), except `ref('x')` / `source('s', 't')`
  written exactly as martsmith writes them. Strings the file held before martsmith touched it
  are the host's and are left to the host.
- **anything else** (an ERD in Markdown, ...): no template delimiters at all.

>>> [f.message for f in check_sql_jinja("select * from {{ ref('orders') }}")]
[]
>>> [f.message for f in check_sql_jinja("{{ run_query('drop schema raw cascade') }}")]
['Jinja call run_query(...) is not allowed in generated SQL (line 1)']
>>> [f.message for f in check_sql_jinja("{{ martsmith.surrogate_key([x]) }}")]
['Jinja argument of martsmith.surrogate_key(...) is not a literal (line 1)']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import jinja2
from jinja2 import nodes

from martsmith.render.jinja_safe import DBT_FUNCTION_LIKE, TEMPLATE_OPEN, is_relation_string
from martsmith.validate.findings import Finding

# The package's public macros (macros/sql/); tests/validate/test_jinja_allowlist.py keeps this
# list equal to what the package ships.
MARTSMITH_MACROS = frozenset(
    {"surrogate_key", "date_spine", "deduplicate", "date_key", "iso_day_of_week", "day_name", "month_name", "date_part"}
)
# dbt's cross-database macros: each returns SQL text for its adapter and runs nothing.
DBT_MACROS = frozenset(
    {
        "date_trunc",
        "datediff",
        "dateadd",
        "last_day",
        "safe_cast",
        "cast",
        "concat",
        "hash",
        "split_part",
        "replace",
        "length",
        "position",
        "right",
        "escape_single_quotes",
        "string_literal",
        "any_value",
        "bool_or",
        "listagg",
        "current_timestamp",
        "date",
        "type_string",
        "type_timestamp",
        "type_int",
        "type_bigint",
        "type_float",
        "type_numeric",
        "type_boolean",
        "cast_bool_to_text",
    }
)
CONFIG_KEYS = frozenset({"materialized", "tags", "alias", "schema", "unique_key", "enabled"})
RELATION_MACROS = frozenset({"ref", "source"})


def _line(node: nodes.Node) -> str:
    return f" (line {node.lineno})" if getattr(node, "lineno", None) else ""


def _is_literal(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Const):
        return isinstance(node.value, (str, int, float, bool)) or node.value is None
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return all(_is_literal(item) for item in node.items)
    if isinstance(node, (nodes.Neg, nodes.Pos)):  # -30: a negative number
        return isinstance(node.node, nodes.Const) and isinstance(node.node.value, (int, float))
    return False


def _call_name(call: nodes.Call) -> tuple[str | None, str]:
    """(namespace, name) of a call: (None, 'ref'), ('martsmith', 'surrogate_key')."""
    fn = call.node
    if isinstance(fn, nodes.Name):
        return None, fn.name
    if isinstance(fn, nodes.Getattr) and isinstance(fn.node, nodes.Name):
        return fn.node.name, fn.attr
    return None, ""


def _is_relation_call(node: nodes.Node) -> bool:
    """`ref('m')` / `source('s', 't')` of literal names: a relation, not an expression."""
    if not isinstance(node, nodes.Call) or node.dyn_args is not None or node.dyn_kwargs is not None:
        return False
    namespace, name = _call_name(node)
    return (
        namespace is None
        and name in RELATION_MACROS
        and not node.kwargs
        and all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in node.args)
    )


def _check_call(call: nodes.Call) -> list[str]:
    namespace, name = _call_name(call)
    shown = f"{namespace}.{name}" if namespace else (name or "an expression")
    allowed = (
        (namespace is None and name in RELATION_MACROS | {"config"})
        or (namespace == "martsmith" and name in MARTSMITH_MACROS)
        or (namespace == "dbt" and name in DBT_MACROS)
    )
    if not allowed:
        return [f"Jinja call {shown}(...) is not allowed in generated SQL{_line(call)}"]
    if call.dyn_args is not None or call.dyn_kwargs is not None:
        return [f"Jinja call {shown}(...) uses *args or **kwargs{_line(call)}"]
    problems = []
    takes_relation = namespace == "martsmith"
    for arg in call.args:
        if takes_relation and _is_relation_call(arg):
            continue
        if not _is_literal(arg):
            problems.append(f"Jinja argument of {shown}(...) is not a literal{_line(call)}")
    for kw in call.kwargs:
        if name == "config" and namespace is None and kw.key not in CONFIG_KEYS:
            problems.append(f"config({kw.key}=...) is not something martsmith writes{_line(call)}")
        elif not _is_literal(kw.value) and not (takes_relation and _is_relation_call(kw.value)):
            problems.append(f"Jinja argument {kw.key}= of {shown}(...) is not a literal{_line(call)}")
    if name in RELATION_MACROS and namespace is None and call.kwargs:
        problems.append(f"{name}() takes only names here{_line(call)}")
    return problems


def check_sql_jinja(text: str, path: str = "") -> list[Finding]:
    """Findings for every piece of Jinja in `text` that is not on the allowlist."""
    try:
        tree = jinja2.Environment(extensions=["jinja2.ext.do"]).parse(text)  # as dbt parses
    except jinja2.TemplateSyntaxError as exc:
        return [Finding("jinja", f"{path}: the Jinja does not parse: {exc.message} (line {exc.lineno})".lstrip(": "))]
    problems: list[str] = []
    for stmt in tree.body:
        if not isinstance(stmt, nodes.Output):
            problems.append(
                f"{{% {type(stmt).__name__.lower()} %}} blocks are not allowed in generated SQL{_line(stmt)}"
            )
            continue
        for node in stmt.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            if isinstance(node, nodes.Call):
                problems += _check_call(node)
            else:
                problems.append(f"Jinja expression {type(node).__name__} is not allowed in generated SQL{_line(node)}")
    prefix = f"{path}: " if path else ""
    return [Finding("jinja", prefix + p) for p in problems]


# Under these keys dbt passes strings to a test or a unit test, wrapping call-like ones in {{ }}.
CALL_WRAPPING_KEYS = frozenset({"data_tests", "tests", "unit_tests"})


def _strings(value: Any, in_tests: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string of a YAML document (keys too), with whether it sits under a test."""
    if isinstance(value, str):
        yield value, in_tests
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k, in_tests)
            yield from _strings(v, in_tests or k in CALL_WRAPPING_KEYS)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, in_tests)


def _yaml_strings(text: str) -> set[tuple[str, bool]] | None:
    import yaml

    try:
        return set(_strings(yaml.safe_load(text)))
    except yaml.YAMLError:
        return None


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_yaml_jinja(text: str, before: str | None = None, path: str = "") -> list[Finding]:
    """Findings for strings of a YAML file that dbt would execute (and the host did not write)."""
    strings = _yaml_strings(text)
    prefix = f"{path}: " if path else ""
    if strings is None:
        return [Finding("jinja", f"{prefix}the generated YAML does not parse")]
    hosts = {s for s, _ in (_yaml_strings(before) or set())} if before else set()
    out = []
    for s, in_tests in sorted(strings):
        if s in hosts:
            continue
        if TEMPLATE_OPEN.search(s):
            out.append(Finding("jinja", f"{prefix}value {_short(s)} contains template delimiters"))
        elif in_tests and DBT_FUNCTION_LIKE.match(s) and not is_relation_string(s):
            out.append(Finding("jinja", f"{prefix}value {_short(s)} would be run by dbt as a Jinja call"))
    return out


def check_file_jinja(relpath: str | PurePath, text: str, before: str | None = None) -> list[Finding]:
    """The allowlist for one file about to be written (`before`: its current contents)."""
    path = str(relpath)
    suffix = PurePath(path).suffix.lower()
    if suffix == ".sql":
        return check_sql_jinja(text, path)
    if suffix in (".yml", ".yaml"):
        return check_yaml_jinja(text, before, path)
    if TEMPLATE_OPEN.search(text) and not (before and TEMPLATE_OPEN.search(before)):
        return [Finding("jinja", f"{path}: contains template delimiters")]
    return []


def check_files_jinja(files: dict, root) -> list[Finding]:
    """The allowlist over every file of a write ({path relative to root: text})."""
    from pathlib import Path

    out: list[Finding] = []
    for rel, text in files.items():
        target = Path(root) / rel
        try:
            before = target.read_text() if target.is_file() else None
        except (OSError, UnicodeDecodeError):
            before = None
        out += check_file_jinja(rel, text, before)
    return out
