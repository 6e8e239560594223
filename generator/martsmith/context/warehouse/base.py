"""The warehouse interface every stage uses; each engine (duckdb.py, postgres.py) subclasses it.

`Warehouse(project)` opens the engine the dbt profile's target names (`type:`): DuckDB through
its Python API (the embedded default), PostgreSQL through psycopg2 (dbt-postgres's driver) with
the target's own connection fields, so `profiles.yml` stays the only configuration. Another
adapter is refused with one line naming the supported ones (exit 3).

Callers write SQL in one spelling, DuckDB's (the catalog, the checks, the preview, the probes):
`query()` translates it to the engine's dialect with sqlglot (`translate.py`) where they
differ. What no translation can express (the profiler's sketches, the digest's catalog
queries) is spelled by the engine itself, behind methods of this class, or run as-is with
`query_native()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from martsmith.context.project import Project
from martsmith.errors import ProjectError, WarehouseError

SUPPORTED = ("duckdb", "postgres", "spark")
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation_sql(schema: str, table: str, database: str | None = None) -> str:
    """The quoted name of a relation; an empty schema (a Spark temporary view) is left out."""
    parts = ([database] if database else []) + ([schema] if schema else []) + [table]
    return ".".join(quote(p) for p in parts)


_ENGINES: dict[str, type[Warehouse]] = {}  # adapter type -> engine, filled as each engine module loads


def _engine(adapter: str) -> type[Warehouse]:
    if adapter not in _ENGINES:
        raise ProjectError(
            f"Target uses the '{adapter}' adapter; martsmith reads warehouses of these adapters only: "
            f"{', '.join(SUPPORTED)}.",
            hint="Point --target at a target of a supported adapter (see the README's Warehouses section).",
        )
    return _ENGINES[adapter]


def check_supported(project: Project) -> None:
    """Raise ProjectError unless martsmith can read the project's target."""
    _engine(project.adapter_type)


class Warehouse:
    """Runs SQL against the project's target. `Warehouse(project)` returns the engine's
    subclass. Use as a context manager, or call close().

    Every method takes and returns the same shapes on every engine: (schema, name) pairs,
    "table"/"view" kinds, rows as tuples."""

    adapter: ClassVar[str] = ""
    dialect: ClassVar[str] = "duckdb"  # sqlglot's name for the engine's SQL
    sqlfluff_dialect: ClassVar[str] = "duckdb"
    temp_schema: ClassVar[str] = "temp"  # where `create temp table` puts a relation
    # Whether a query has a fixed cost large enough (a Spark job: scheduling, code generation)
    # that many small queries are better run as one UNION ALL (context/catalog.py's profile).
    batch_queries: ClassVar[bool] = False
    path: Path | None = None  # the database file, for engines that have one

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.adapter:
            _ENGINES[cls.adapter] = cls

    def __new__(cls, project: Project, *, must_exist: bool = True) -> Warehouse:
        if cls is Warehouse:
            if not project.adapter_type:
                raise ProjectError(f"Target '{project.target_name}' has no adapter `type:`.")
            cls = _engine(project.adapter_type)
        return super().__new__(cls)

    def __init__(self, project: Project, *, must_exist: bool = True) -> None:
        self.project = project
        self._read_only_depth = 0

    @property
    def con(self) -> Any:
        """The driver's own connection (DuckDB's, psycopg2's), for code that needs the engine
        itself (the unit-test row picker, on DuckDB)."""
        raise NotImplementedError

    # -- queries ------------------------------------------------------------------------------

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of `sql`, written in DuckDB's spelling with `?` parameters; translated to the
        engine's dialect first."""
        return self.query_native(self.translate(sql), params)

    def translate(self, sql: str) -> str:
        """`sql` (DuckDB's spelling) in the engine's dialect."""
        return sql

    def query_native(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of `sql`, already in the engine's dialect (`?` parameters)."""
        raise NotImplementedError

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict]:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        self.query(sql)

    def result_columns(self, sql: str) -> list[str]:
        """The names of the result columns of `sql` (DuckDB's spelling), as the engine binds it,
        through the driver's DB-API cursor (DuckDB's, psycopg2's)."""
        cursor = self.con.cursor()
        try:
            cursor.execute(self.translate(sql))
            names = [d[0] for d in cursor.description or []]
            cursor.fetchall()
        except Exception as exc:  # the driver's own error class (duckdb.Error, psycopg2.Error)
            if type(exc).__module__.split(".")[0] not in ("duckdb", "_duckdb", "psycopg2"):
                raise
            raise WarehouseError(f"Query failed: {exc}") from exc
        finally:
            cursor.close()
        return names

    # -- what exists --------------------------------------------------------------------------

    def relations(self) -> set[tuple[str, str]]:
        """(schema, name) of every table and view in the database's user schemas."""
        rows = self.query_native(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog')" + self._hide_temp("table_schema")
        )
        return {(s, t) for s, t in rows}

    def _hide_temp(self, column: str) -> str:
        return ""

    def relation_kind(self, schema: str, name: str) -> str | None:
        rows = self.query_native(
            "select table_type from information_schema.tables where table_catalog = "
            "current_database() and table_schema = ? and table_name = ?",
            [schema, name],
        )
        if not rows:
            return None
        return "view" if rows[0][0] == "VIEW" else "table"

    def columns(self, schemas: list[str] | None = None) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """{(schema, table): [(column, data_type), ...]} in ordinal order."""
        sql = (
            "select table_schema, table_name, column_name, data_type from "
            "information_schema.columns where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog')" + self._hide_temp("table_schema")
        )
        params: list[Any] = []
        if schemas:
            sql += " and table_schema in (" + ", ".join("?" for _ in schemas) + ")"
            params = list(schemas)
        sql += " order by table_schema, table_name, ordinal_position"
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, dtype in self.query_native(sql, params):
            out.setdefault((schema, table), []).append((column, dtype))
        return out

    def temp_columns(self, name: str) -> list[tuple[str, str]]:
        """(column, data_type) of a temporary table of this session."""
        raise NotImplementedError

    def view_definition(self, schema: str, name: str) -> str:
        """A statement that recreates the view (for a rollback)."""
        raise NotImplementedError

    def user_schemas(self) -> list[str]:
        raise NotImplementedError

    def relation_states(self) -> list[tuple[str, str, str, int | None, str | None, list[str]]]:
        """(kind, schema, name, estimated rows, view definition, ["column type", ...]) of every
        permanent relation in the user schemas: what the digest compares."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """How messages name the warehouse (a file name, a host and database)."""
        return self.adapter

    def schema_comments(self) -> list[tuple[str, str | None]]:
        """(schema, comment) of every user schema, by name."""
        raise NotImplementedError

    def relation_comments(self, schema: str) -> list[tuple[str, str | None]]:
        """(table or view, comment) in `schema`, by name."""
        raise NotImplementedError

    def column_comments(self, schema: str) -> list[tuple[str, str, str, str | None]]:
        """(table, column, data type, comment) in `schema`, in table then ordinal order."""
        raise NotImplementedError

    def row_checksum(self, alias: str) -> str:
        """An aggregate over the rows of `alias`: order-independent, duplicates counted."""
        raise NotImplementedError

    def is_single_create_view(self, sql: str) -> bool:
        """Whether `sql` is one CREATE VIEW statement (only that is replayed from a journal)."""
        import re

        import sqlglot  # only a recovery reads a journal's view

        try:
            statements = [s for s in sqlglot.parse(sql, dialect=self.dialect) if s is not None]
        except sqlglot.errors.ParseError:
            return False
        return (
            len(statements) == 1
            and isinstance(statements[0], sqlglot.exp.Create)
            and re.match(r"\s*create\s+(or\s+replace\s+)?view\s", sql, re.IGNORECASE) is not None
        )

    def load_tables(self, schema: str, source: Any, tables: tuple[str, ...]) -> dict[str, int]:
        """Copy `tables` of `schema` from a DuckDB connection `source` into this warehouse
        (the sample data on any target); their row counts."""
        raise NotImplementedError

    def stamp(self) -> tuple | None:
        """Something that changes whenever the warehouse may have changed, when the engine can
        tell cheaply (a database file's size and mtime); None when it cannot."""
        return None

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def read_only(self) -> Iterator[Warehouse]:
        """Run the enclosed queries in a transaction that is always rolled back: nothing they do
        persists. Nested uses share the outer transaction. A query that ended the transaction
        itself (COMMIT) is reported as a WarehouseError, as what it did may have persisted."""
        depth = self._read_only_depth
        if depth:
            self._read_only_depth = depth + 1
            try:
                yield self
            finally:
                self._read_only_depth = depth
            return
        self._begin()
        self._read_only_depth = 1
        try:
            yield self
        finally:
            self._read_only_depth = 0
            self._rollback()

    def _begin(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sample_comments(source: Any, schema: str, tables: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    """The comments of a DuckDB schema, its `tables` and their columns (what `load_tables` copies
    with the data), as (kind, table, column, text): kind 'schema', 'table' or 'column'; table and
    column '' where they do not apply."""
    out = []
    wanted = set(tables)
    for (comment,) in source.execute("select comment from duckdb_schemas() where schema_name = ?", [schema]).fetchall():
        if comment:
            out.append(("schema", "", "", comment))
    for table, comment in source.execute(
        "select table_name, comment from duckdb_tables() where schema_name = ?", [schema]
    ).fetchall():
        if comment and table in wanted:
            out.append(("table", table, "", comment))
    for table, column, comment in source.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = ?", [schema]
    ).fetchall():
        if comment and table in wanted:
            out.append(("column", table, column, comment))
    return out


@contextmanager
def open_warehouse(project: Project, must_exist: bool = True) -> Iterator[Warehouse]:
    wh = Warehouse(project, must_exist=must_exist)
    try:
        yield wh
    finally:
        wh.close()
