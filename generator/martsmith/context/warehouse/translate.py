"""martsmith's own queries, written once in DuckDB's spelling, in another engine's dialect.

sqlglot transpiles; the passes below fix what it leaves that the engine would refuse. Each pass
is a plain function over the parsed statement, and `PASSES` lists them per dialect:

>>> to_dialect('select approx_count_distinct("a") from (select 1 as a)', "postgres")
'SELECT COUNT(DISTINCT "a") FROM (SELECT 1 AS a) AS _q0'
>>> to_dialect('create or replace temp table "p" as select 1 as a', "postgres")
'DROP TABLE IF EXISTS pg_temp."p"; CREATE TEMPORARY TABLE "p" AS SELECT 1 AS a'
>>> to_dialect('create or replace temp table "p" as select 1 as a', "spark")
'DROP VIEW IF EXISTS `p`; CACHE TABLE `p` AS SELECT 1 AS a'
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

Pass = Callable[[Any], Any]
PLACEHOLDER = "__martsmith_parameter__"


def exact_distinct(tree: Any) -> Any:
    """approx_count_distinct -> count(distinct): Postgres has no sketch built in."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.ApproxDistinct)):
        node.replace(exp.Count(this=exp.Distinct(expressions=[node.this])))
    return tree


def alias_subqueries(tree: Any) -> Any:
    """Every subquery in FROM gets an alias (PostgreSQL 15 requires one)."""
    from sqlglot import exp

    for n, node in enumerate(list(tree.find_all(exp.Subquery))):
        if not node.alias and isinstance(node.parent, (exp.From, exp.Join)):
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{n}")))
    return tree


def temp_schema(tree: Any) -> Any:
    """DuckDB's `temp.x` is Postgres's `pg_temp.x`."""
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        if table.db and table.db.lower() == "temp" and not table.catalog:
            table.set("db", exp.to_identifier("pg_temp"))
    return tree


def text_hash(tree: Any) -> Any:
    """hash(a, b) -> hashtext of the row's text (an int4 hash, deterministic)."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "hash":
            args = node.expressions
            text = args[0] if len(args) == 1 else exp.Tuple(expressions=args)
            cast = exp.Cast(this=text, to=exp.DataType.build("text"))
            node.replace(exp.Cast(this=exp.func("hashtext", cast), to=exp.DataType.build("bigint")))
    return tree


def _smallest_values(tree: Any, dialect: str, template: str) -> Any:
    """DuckDB's `min(x, n)` (the n smallest values, a list) -> `template` with {value}, {filter}
    (the aggregate's FILTER clause, kept) and {n}, in `dialect`."""
    import sqlglot
    from sqlglot import exp

    for node in list(tree.find_all(exp.Min)):
        count = node.args.get("count") or (node.expressions[0] if node.expressions else None)
        if count is None:
            continue
        wrapped = node.parent if isinstance(node.parent, exp.Filter) else None
        where = f" filter (where {wrapped.expression.this.sql(dialect)})" if wrapped is not None else ""
        text = template.format(value=node.this.sql(dialect), filter=where, n=count.sql(dialect))
        (wrapped or node).replace(sqlglot.parse_one(text, read=dialect))
    return tree


def smallest_values(tree: Any) -> Any:
    """`min(x, n)` on Postgres: a slice of a sorted array_agg."""
    return _smallest_values(tree, "postgres", "(array_agg({value} order by {value}){filter})[1:{n}]")


def no_cascade(tree: Any) -> Any:
    """Spark drops a table or view without CASCADE (only a schema takes it)."""
    from sqlglot import exp

    if isinstance(tree, exp.Drop) and (tree.kind or "").upper() in ("TABLE", "VIEW"):
        tree.set("cascade", False)
    return tree


def spark_smallest_values(tree: Any) -> Any:
    """`min(x, n)` on Spark: the first n of the sorted list of values."""
    return _smallest_values(tree, "spark", "slice(array_sort(collect_list({value}){filter}), 1, {n})")


def _is_row(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and node.name.lower() == "row"


def spark_rows(tree: Any) -> Any:
    """DuckDB's `row(a, b)` on Spark: the columns themselves on each side of IN (subquery), where
    Spark compares a list of columns (and refuses a struct), a struct elsewhere (`=`, count(distinct)).

    >>> to_dialect("select 1 from t where row(a, b) in (select row(a, b) from u) and row(a, b) = (select row(a, b) from u)", "spark")
    'SELECT 1 FROM t WHERE (a, b) IN (SELECT a, b FROM u) AND STRUCT(a, b) = (SELECT STRUCT(a, b) FROM u)'
    """
    from sqlglot import exp

    for node in list(tree.find_all(exp.In)):
        query = node.args.get("query")
        select = query.this if isinstance(query, exp.Subquery) else query
        if _is_row(node.this) and isinstance(select, exp.Select) and len(select.selects) == 1:
            (row,) = select.selects
            if _is_row(row):
                node.set("this", exp.Tuple(expressions=list(node.this.expressions)))
                select.set("expressions", list(row.expressions))
    for node in list(tree.find_all(exp.Anonymous)):
        if _is_row(node):
            node.replace(exp.Struct(expressions=list(node.expressions)))
    return tree


PASSES: dict[str, tuple[Pass, ...]] = {
    "postgres": (exact_distinct, alias_subqueries, temp_schema, text_hash, smallest_values),
    "spark": (no_cascade, spark_smallest_values, spark_rows),
}


def _spark_statement(tree: Any) -> str | None:
    """The statements Spark spells differently: a temp table is a cached temporary view (eager,
    session-scoped, like DuckDB's), dropping it uncaches it, and `create or replace table`
    (which Spark's v1 tables refuse) is a drop and a create."""
    from sqlglot import exp

    if isinstance(tree, exp.Create) and tree.kind == "TABLE":
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        props = (tree.args.get("properties") or exp.Properties()).expressions
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
        query = tree.expression
        if temporary and query is not None:
            name = exp.to_identifier(target.name, quoted=True).sql("spark")
            return f"DROP VIEW IF EXISTS {name}; CACHE TABLE {name} AS {query.sql('spark')}"
        if tree.args.get("replace") and query is not None:
            rel = target.sql("spark")
            return f"DROP TABLE IF EXISTS {rel}; CREATE TABLE {rel} USING parquet AS {query.sql('spark')}"
    if isinstance(tree, exp.Drop) and (tree.kind or "").upper() == "TABLE":
        target = tree.this or (tree.args.get("tables") or [None])[0]
        if target is not None and target.db and target.db.lower() == "temp" and not target.catalog:
            name = exp.to_identifier(target.name, quoted=True).sql("spark")
            return f"UNCACHE TABLE IF EXISTS {name}; DROP VIEW IF EXISTS {name}"
    return None


def _replace_table(tree: Any, dialect: str) -> str | None:
    """`create or replace table` as a drop and a create (Postgres has no OR REPLACE for tables)."""
    from sqlglot import exp

    if not (isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE"):
        return None
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    temporary = any(
        isinstance(p, exp.TemporaryProperty) for p in (tree.args.get("properties") or exp.Properties()).expressions
    )
    dropped = target.copy()
    if temporary and not dropped.db:
        dropped.set("db", exp.to_identifier("pg_temp"))
    tree.set("replace", False)
    return f"DROP TABLE IF EXISTS {dropped.sql(dialect)}; {tree.sql(dialect)}"


@lru_cache(maxsize=1024)
def to_dialect(sql: str, dialect: str) -> str:
    """`sql` (DuckDB's spelling, `?` parameters) in `dialect`, still with `?` parameters."""
    import sqlglot  # parsing on use: the DuckDB engine never translates
    from sqlglot import exp

    out = []
    for tree in sqlglot.parse(sql, read="duckdb"):
        if tree is None:
            continue
        for step in PASSES.get(dialect, ()):
            tree = step(tree)
        for node in list(tree.find_all(exp.Placeholder)):
            node.replace(exp.column(PLACEHOLDER))
        special = _spark_statement(tree) if dialect == "spark" else _replace_table(tree, dialect)
        out.append(special or tree.sql(dialect))
    return "; ".join(out).replace(PLACEHOLDER, "?")


def pyformat(sql: str) -> str:
    """Native SQL with `?` parameters for a pyformat driver (psycopg2): `%` doubled, `?` as
    `%s`. Only `?` outside quotes are parameters.

    >>> pyformat("select 7 % 3 where a = ? and b = '?'")
    "select 7 %% 3 where a = %s and b = '?'"
    """
    import re

    parts = re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", sql)
    return "".join(
        p.replace("%", "%%") if i % 2 else p.replace("%", "%%").replace("?", "%s") for i, p in enumerate(parts)
    )
