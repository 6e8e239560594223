"""SQL *expressions* that martsmith writes into tests or runs in its own checks: a test's
`expression`, a `where`/`from_condition`, a range bound.

dbt pastes them into SQL as they are, and martsmith's data checks run them before writing, so
they are held to the rules of a model's SQL and more: one scalar expression (no subquery, no
table, no second statement), no function that reads files, the network, settings or the
environment, no Jinja, and — when `columns` is given — only columns of the table it tests.

>>> expression_problems("amount >= 0 and status <> 'x'", columns={"amount", "status"})
[]
>>> expression_problems("length(read_text('/etc/passwd')) > 0")
['read_text() reads files, the network or the environment']
>>> expression_problems("(select count(*) from raw.orders) > 0")
['a subquery or table is not allowed in a test expression']
>>> expression_problems("amount > 0", columns={"price"})
["column 'amount' is not a column of the table (columns: price)"]
"""

from __future__ import annotations

import re

from martsmith.render.jinja_safe import TEMPLATE_OPEN

DIALECT = "duckdb"
# Functions that read or write files, reach the network, the environment or the settings,
# inspect the engine, or run code. Shared with the model SQL check (validate/static.py).
FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w+|.*_scan|glob|sniff_csv|getenv|getvariable|current_setting|set_config|system|shell|"
    r"http_\w+|query|query_table|load_extension|copy_\w+|export_\w+|pg_read_\w+|pg_ls_\w+|lo_\w+|"
    r"dblink\w*|url\w*|to_file|write_\w+|\w*_file|duckdb_\w+|pragma_\w+|\w*secret\w*|"
    r"parquet_\w+|iceberg_\w+|delta_\w+|json_execute_serialized_sql|txid_\w+|pg_\w+)$",
    re.IGNORECASE,
)
MAX_LENGTH = 2000


def function_name(node) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name() if isinstance(node, exp.Func) else ""


def forbidden_function(node) -> str | None:
    """The name of a forbidden function call, if `node` is one."""
    from sqlglot import exp

    if isinstance(node, (exp.Func, exp.Anonymous)):
        name = function_name(node)
        if name and FORBIDDEN_FUNCTION.match(name):
            return name
    return None


def expression_problems(sql: str, *, columns: set[str] | None = None, what: str = "test expression") -> list[str]:
    """Why `sql` is not a safe scalar expression ([] when it is). `columns`: the names it may use
    (compared case-insensitively); None skips the column check."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    if not isinstance(sql, str) or not sql.strip():
        return [f"the {what} is empty"]
    if len(sql) > MAX_LENGTH:
        return [f"the {what} is longer than {MAX_LENGTH} characters"]
    if TEMPLATE_OPEN.search(sql):
        return [f"the {what} contains template delimiters"]
    if ";" in sql:
        return [f"the {what} must be one expression (no ';')"]
    try:
        statements = [s for s in sqlglot.parse(f"select {sql}", dialect=DIALECT) if s is not None]
    except (ParseError, sqlglot.errors.TokenError) as exc:
        return [f"the {what} {sql[:80]!r} does not parse as SQL: {str(exc).splitlines()[0][:120]}"]
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        return [f"the {what} must be one expression"]
    select = statements[0]
    extra = [k for k, v in select.args.items() if v and k not in ("expressions",)]
    if extra or len(select.expressions) != 1:
        return [f"the {what} must be one expression, not a query"]
    out: list[str] = []
    for node in select.expressions[0].walk():
        if isinstance(node, (exp.Query, exp.Subquery, exp.Table, exp.Lateral, exp.Unnest)):
            return [f"a subquery or table is not allowed in a {what}"]
        if isinstance(node, (exp.Placeholder, exp.Parameter, exp.SessionParameter)):
            return [f"parameters are not allowed in a {what}"]
        name = forbidden_function(node)
        if name:
            out.append(f"{name}() reads files, the network or the environment")
    if columns is not None and not out:
        known = {c.lower() for c in columns}
        for col in select.expressions[0].find_all(exp.Column):
            if col.table:
                out.append(f"column {col.sql(DIALECT)} is qualified; name columns of the table only")
            elif col.name.lower() not in known:
                out.append(f"column '{col.name}' is not a column of the table (columns: {', '.join(sorted(columns))})")
    return list(dict.fromkeys(out))
