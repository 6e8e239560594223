"""Apache Spark, through the same in-process SparkSession dbt-spark's `session` method uses.

dbt runs in-process (context/dbt.py), and a Python process has one SparkSession: martsmith
builds it exactly as dbt-spark does (Hive support on, the target's `server_side_parameters`
as configuration, ANSI mode off), so the catalog, the checks and dbt's builds all see one
metastore and one set of temporary views. The same SQL runs on a cluster (thrift, http,
Databricks); reading those targets needs their drivers and is not built yet: such a target is
refused with one line.

Spark has no transactions. A `read_only()` block therefore runs queries only (SELECT, WITH,
temporary views and caches of them) and drops the temporary views it made when it ends; any
other statement inside it is refused before it runs. A rollback of a build drops the relations
the run created (RelationGuard) and puts back copies of the ones it replaced.

Identifiers: martsmith's own native SQL quotes with double quotes (as DuckDB and Postgres do);
Spark reads double quotes as strings, so `query_native` turns each double-quoted identifier into
a backquoted one. Single-quoted strings are left as they are.
"""

from __future__ import annotations

import os
import re
from typing import Any

from martsmith.context.project import Project
from martsmith.context.warehouse.base import Warehouse, sample_comments
from martsmith.errors import ProjectError, WarehouseError

SESSION_METHODS = ("session",)
# The statements a read-only block may run: nothing that persists.
_READ_ONLY = re.compile(
    r"^\s*(\(?\s*select\b|with\b|values\b|cache\s+(lazy\s+)?table\b|uncache\s+table\b|drop\s+view\b|"
    r"create\s+(or\s+replace\s+)?temp(orary)?\s+view\b|describe\b|show\b|explain\b)",
    re.IGNORECASE,
)
_DROP_VIEW = re.compile(r"^\s*drop\s+view\s+(?:if\s+exists\s+)?(`[^`]+`|[^\s;.`]+)\s*;?\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"('(?:[^'\\]|\\.|'')*')|\"((?:[^\"]|\"\")*)\"")


def backquote(sql: str) -> str:
    """Double-quoted identifiers as Spark's backquoted ones; string literals untouched.

    >>> backquote('select "a""b", \\'say "hi"\\' from "raw"."t"')
    'select `a"b`, \\'say "hi"\\' from `raw`.`t`'
    """

    def one(m: re.Match) -> str:
        if m.group(1) is not None:
            return m.group(1)
        return "`" + m.group(2).replace('""', '"').replace("`", "``") + "`"

    return _QUOTED.sub(one, sql)


def _plain(value: Any) -> Any:
    """A pyspark value as the other drivers give it: Rows as dicts, arrays as lists."""
    from pyspark.sql import Row  # values of a Spark query are being converted

    if isinstance(value, Row):
        return {k: _plain(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def spark_session(target: dict) -> Any:
    """The process's SparkSession, built the way dbt-spark's session method builds it."""
    from pyspark.sql import SparkSession  # Spark is started only for a Spark target

    params = {str(k): str(v) for k, v in (target.get("server_side_parameters") or {}).items()}
    running = SparkSession.getActiveSession()
    wanted = params.get("spark.sql.warehouse.dir")
    if running is not None and wanted:
        current = str(running.conf.get("spark.sql.warehouse.dir", "") or "")
        if os.path.abspath(current.removeprefix("file:")) != os.path.abspath(wanted.removeprefix("file:")):
            # Static settings (the warehouse, the metastore) cannot change once Spark runs.
            raise ProjectError(
                f"This process already runs Spark on the warehouse {current}; a process has one "
                f"SparkSession, so it cannot also open {wanted}.",
                hint="Run each Spark project in its own process.",
            )
    builder = SparkSession.builder.enableHiveSupport()
    params["spark.sql.ansi.enabled"] = "false"  # as dbt-spark forces it
    for key, value in params.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkWarehouse(Warehouse):
    adapter = "spark"
    dialect = "spark"
    sqlfluff_dialect = "sparksql"
    temp_schema = ""  # temporary views have no schema
    batch_queries = True  # each query is a job (~0.3-1 s on a small table, whatever its size)

    def __init__(self, project: Project, *, must_exist: bool = True) -> None:
        super().__init__(project, must_exist=must_exist)
        method = str(project.target.get("method", ""))
        if method not in SESSION_METHODS:
            raise ProjectError(
                f"The Spark target '{project.target_name}' connects with method '{method}'; martsmith reads "
                "Spark through the `session` method only (dbt-spark[session], pyspark in this process).",
                hint="Add a target with `method: session` (see profiles.example.yml), or use the thrift/http "
                "target with dbt directly.",
            )
        self._session: Any = None
        self._temp_before: set[str] | None = None

    @property
    def con(self) -> Any:
        if self._session is None:
            try:
                import pyspark  # noqa: F401 - the driver, on first use
            except ImportError as exc:
                raise ProjectError(
                    "The Spark target needs pyspark: pip install 'dbt-spark[session]'.",
                ) from exc
            try:
                self._session = spark_session(self.project.target)
            except Exception as exc:  # noqa: BLE001 - the JVM failed to start (Java missing, ...)
                raise WarehouseError(
                    f"Cannot start Spark: {_first_line(exc)}",
                    hint="Spark needs Java 17 (Debian: openjdk-17-jre-headless; scripts/spark.sh install).",
                ) from exc
        return self._session

    # -- queries ------------------------------------------------------------------------------

    def translate(self, sql: str) -> str:
        from martsmith.context.warehouse.translate import to_dialect  # parsing on use

        return to_dialect(sql, "spark")

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.query_native(self.translate(sql), params)

    def query_native(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self._run(sql, params)[1]

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict]:
        names, rows = self._run(self.translate(sql), params)
        return [dict(zip(names, row)) for row in rows]

    def _run(self, sql: str, params: list[Any] | None) -> tuple[list[str], list[tuple]]:
        statements = _split(backquote(sql))
        names: list[str] = []
        rows: list[tuple] = []
        args = list(params or [])
        for statement in statements:
            if self._read_only_depth and not self._may_run_read_only(statement):
                raise WarehouseError(
                    "Spark has no transactions: a read-only check may only query, but it would run "
                    f"{statement.split()[0].upper()}.\n{statement}"
                )
            try:
                frame = self.con.sql(statement, args=args or None) if statement.count("?") else self.con.sql(statement)
                names = list(frame.columns)
                rows = [tuple(_plain(v) for v in row) for row in frame.collect()]
            except WarehouseError:
                raise
            except Exception as exc:  # noqa: BLE001 - AnalysisException, ParseException, Py4JJavaError
                raise WarehouseError(f"Query failed: {_first_line(exc)}\n{statement}") from exc
        return names, rows

    def temp_view(self, name: str, rows: list[dict[str, Any]], like: str) -> None:
        """A cached temporary view `name` holding exactly `rows`, with the columns and types of
        the query `like` (DuckDB's spelling; analysed, not run); a column a row lacks is null
        (names match case-insensitively, as Spark's do). Spark's temporary views take no INSERT:
        the unit-test picker makes the rows it stages a view."""
        try:
            schema = self.con.sql(_single(backquote(self.translate(like)))).schema
            names = [f.name.lower() for f in schema.fields]
            values = [{str(k).lower(): v for k, v in r.items()} for r in rows]
            frame = self.con.createDataFrame([tuple(r.get(n) for n in names) for r in values], schema)
            self.con.sql(f"uncache table if exists {_backquoted(name)}")
            frame.createOrReplaceTempView(name)
            self.con.sql(f"cache table {_backquoted(name)}")
        except Exception as exc:  # noqa: BLE001 - AnalysisException, a value of another type
            raise WarehouseError(f"Cannot stage rows in the temporary view {name}: {_first_line(exc)}") from exc

    def result_columns(self, sql: str) -> list[str]:
        """Spark analyses a query without running it: its columns come from the plan."""
        statement = _single(backquote(self.translate(sql)))
        try:
            return list(self.con.sql(statement).columns)
        except Exception as exc:  # noqa: BLE001 - AnalysisException, ParseException
            raise WarehouseError(f"Query failed: {_first_line(exc)}") from exc

    def _may_run_read_only(self, statement: str) -> bool:
        """Queries, temporary views and their caches; a DROP VIEW only of a temporary view (an
        unqualified name could otherwise drop a permanent view of the current schema)."""
        if not _READ_ONLY.match(statement):
            return False
        if re.match(r"\s*drop\s+view\b", statement, re.IGNORECASE):
            dropped = _DROP_VIEW.match(statement)
            if dropped is None:
                return False  # qualified: never a temporary view
            name = dropped.group(1).strip("`")
            if name in self._temp_views():
                return True
            # No such temporary view: DROP VIEW would fall through to the current schema's.
            return self.relation_kind(self.con.catalog.currentDatabase(), name) is None
        return True

    # -- what exists --------------------------------------------------------------------------

    # Listing goes through SHOW commands and the resolved relation's schema rather than
    # pyspark's Catalog API: listDatabases/listTables/listColumns fetch every table's whole
    # metadata through py4j, 5-15x slower (1.7 s against 0.07 s for three schemas here).

    def _tables(self, schema: str) -> list[tuple[str, str]]:
        """(name, 'table' | 'view') of the permanent relations of `schema`."""
        quoted = _backquoted(schema)
        views = {r.viewName for r in self.con.sql(f"show views in {quoted}").collect() if not r.isTemporary}
        rows = self.con.sql(f"show tables in {quoted}").collect()
        return [(r.tableName, "view" if r.tableName in views else "table") for r in rows if not r.isTemporary]

    def _schema_exists(self, schema: str) -> bool:
        return schema.lower() in {s.lower() for s in self.user_schemas()}

    def user_schemas(self) -> list[str]:
        return [r[0] for r in self.con.sql("show databases").collect()]

    def relations(self) -> set[tuple[str, str]]:
        return {(s, name) for s in self.user_schemas() for name, _ in self._tables(s)}

    def relation_kind(self, schema: str, name: str) -> str | None:
        if not self._schema_exists(schema):
            return None
        return next((kind for n, kind in self._tables(schema) if n.lower() == name.lower()), None)

    def _fields(self, relation: str) -> list[Any]:
        return list(self.con.table(relation).schema.fields)

    def columns(self, schemas: list[str] | None = None) -> dict[tuple[str, str], list[tuple[str, str]]]:
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        known = {s.lower() for s in self.user_schemas()}
        for schema in sorted(schemas or known):
            if schema.lower() not in known:
                continue
            for name, _ in sorted(self._tables(schema)):
                fields = self._fields(f"{_backquoted(schema)}.{_backquoted(name)}")
                out[(schema, name)] = [(f.name, duckdb_type(f.dataType.simpleString())) for f in fields]
        return out

    def temp_columns(self, name: str) -> list[tuple[str, str]]:
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in self._fields(_backquoted(name))]

    def view_definition(self, schema: str, name: str) -> str:
        (text,) = self.query_native(f'show create table "{schema}"."{name}" as serde')[0]
        return str(text).rstrip().rstrip(";")

    def relation_states(self) -> list[tuple[str, str, str, int | None, str | None, list[str]]]:
        out: list[tuple[str, str, str, int | None, str | None, list[str]]] = []
        for schema in self.user_schemas():
            for name, kind in self._tables(schema):
                fields = self._fields(f"{_backquoted(schema)}.{_backquoted(name)}")
                cols = [f"{f.name} {f.dataType.simpleString()}" for f in fields]
                if kind == "view":
                    out.append(("view", schema, name, None, self.view_definition(schema, name), cols))
                else:
                    # No row estimate without ANALYZE: every table counts as small and gets a checksum.
                    out.append(("table", schema, name, 0, None, cols))
        return out

    @property
    def label(self) -> str:
        return f"spark {self.project.target_name}"

    def schema_comments(self) -> list[tuple[str, str | None]]:
        return sorted((d.name, d.description or None) for d in self.con.catalog.listDatabases())

    # Comments come from the Catalog API (only `sources` reads them).

    def _described(self, schema: str) -> list[Any]:
        return [t for t in self.con.catalog.listTables(schema) if not t.isTemporary]

    def relation_comments(self, schema: str) -> list[tuple[str, str | None]]:
        return sorted((t.name, t.description or None) for t in self._described(schema))

    def column_comments(self, schema: str) -> list[tuple[str, str, str, str | None]]:
        out = []
        for t in sorted(self._described(schema), key=lambda t: t.name):
            for c in self.con.catalog.listColumns(f"`{schema}`.`{t.name}`"):
                out.append((t.name, c.name, duckdb_type(c.dataType), c.description or None))
        return out

    def row_checksum(self, alias: str) -> str:
        return f"sum(cast(hash({alias}.*) as decimal(38, 0)))"

    def load_tables(self, schema: str, source: Any, tables: tuple[str, ...]) -> dict[str, int]:
        """Copy DuckDB tables into `schema` (dropped and recreated) as Parquet tables."""
        spark = self.con
        counts: dict[str, int] = {}
        spark.sql(f"drop schema if exists `{schema}` cascade")
        spark.sql(f"create schema `{schema}`")
        comments = {
            (kind, f"{t}.{c}" if kind == "column" else t or schema): text
            for kind, t, c, text in sample_comments(source, schema, tables)
        }
        for table in tables:
            described = source.execute(f'describe "{schema}"."{table}"').fetchall()
            ddl = ", ".join(f"`{c[0]}` {spark_type(str(c[1]))}" for c in described)
            rows = source.execute(f'select * from "{schema}"."{table}"').fetchall()
            frame = spark.createDataFrame([tuple(r) for r in rows], schema=ddl)
            frame.write.format("parquet").saveAsTable(f"`{schema}`.`{table}`")
            counts[table] = len(rows)
            if ("table", table) in comments:
                spark.sql(f"comment on table `{schema}`.`{table}` is {_literal(comments['table', table])}")
            for c in described:
                text = comments.get(("column", f"{table}.{c[0]}"))
                if text:
                    spark.sql(f"alter table `{schema}`.`{table}` alter column `{c[0]}` comment {_literal(text)}")
        if ("schema", schema) in comments:
            spark.sql(f"alter schema `{schema}` set dbproperties ('comment' = {_literal(comments['schema', schema])})")
        return counts

    # -- transactions ---------------------------------------------------------------------------

    def _temp_views(self) -> set[str]:
        return {r.tableName for r in self.con.sql("show tables").collect() if r.isTemporary}

    def _begin(self) -> None:
        self._temp_before = self._temp_views()

    def _rollback(self) -> None:
        before, self._temp_before = self._temp_before or set(), None
        for name in sorted(self._temp_views() - before):
            self.con.sql(f"uncache table if exists `{name}`")
            self.con.sql(f"drop view if exists `{name}`")

    def close(self) -> None:
        # The session stays: dbt, in this process, shares it; the JVM ends with the process.
        self._session = None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "desc", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _split(sql: str) -> list[str]:
    """Statements of `sql`, split on semicolons outside quotes."""
    parts = re.split(r"('(?:[^'\\]|\\.)*'|`(?:[^`]|``)*`|;)", sql)
    out, current = [], ""
    for p in parts:
        if p == ";":
            out.append(current)
            current = ""
        else:
            current += p
    out.append(current)
    return [s.strip() for s in out if s.strip()]


def _backquoted(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _single(sql: str) -> str:
    (statement,) = _split(sql)
    return statement


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def duckdb_type(spark_type: str) -> str:
    """A Spark type in DuckDB's spelling, the catalog's one vocabulary.

    >>> duckdb_type("string"), duckdb_type("int"), duckdb_type("decimal(10,2)"), duckdb_type("timestamp")
    ('VARCHAR', 'INTEGER', 'DECIMAL(10, 2)', 'TIMESTAMP')
    """
    from sqlglot import exp  # the catalog of a Spark target is being read

    try:
        spelled = exp.DataType.build(spark_type, dialect="spark").sql("duckdb").upper()
    except Exception:  # noqa: BLE001 - a type sqlglot does not know: kept as Spark names it
        return spark_type.upper()
    # Spark's `timestamp` (session time zone) is what its users mean by a timestamp.
    return {"INT": "INTEGER", "TEXT": "VARCHAR", "TIMESTAMPTZ": "TIMESTAMP"}.get(spelled, spelled)


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type as Spark spells it."""
    from sqlglot import exp  # only the sample load copies tables

    spelled = exp.DataType.build(duckdb_type, dialect="duckdb").sql("spark")
    return {"TIMESTAMP": "TIMESTAMP", "TIMESTAMP_NTZ": "TIMESTAMP"}.get(spelled.upper(), spelled)
