"""PostgreSQL, through psycopg2 (the driver dbt-postgres installs) and the profile target's own
connection fields (host, port, user, password, dbname, sslmode, ...).

The connection is in autocommit mode, so martsmith never holds locks while dbt runs; a
`read_only()` block is one transaction that is always rolled back, each query in it behind a
savepoint so that one failed check does not abort the others.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from typing import Any

from martsmith.context.project import Project
from martsmith.context.warehouse.base import SYSTEM_SCHEMAS, Warehouse, sample_comments
from martsmith.context.warehouse.translate import pyformat, to_dialect
from martsmith.errors import ProjectError, WarehouseError

# dbt-postgres target fields -> libpq keywords.
_FIELDS = {
    "host": "host",
    "port": "port",
    "user": "user",
    "password": "password",
    "pass": "password",
    "dbname": "dbname",
    "database": "dbname",
    "sslmode": "sslmode",
    "sslcert": "sslcert",
    "sslkey": "sslkey",
    "sslrootcert": "sslrootcert",
    "connect_timeout": "connect_timeout",
    "keepalives_idle": "keepalives_idle",
}
# The names DuckDB's information_schema gives the same types.
_AS_DUCKDB_REPORTS = {"INT": "INTEGER", "TEXT": "VARCHAR", "[]": "ARRAY"}
_NOT_SYSTEM = "not in (" + ", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS) + ")"


class PostgresWarehouse(Warehouse):
    adapter = "postgres"
    dialect = "postgres"
    sqlfluff_dialect = "postgres"
    temp_schema = "pg_temp"

    def __init__(self, project: Project, *, must_exist: bool = True) -> None:
        super().__init__(project, must_exist=must_exist)
        target = project.target
        self.params = {libpq: target[key] for key, libpq in _FIELDS.items() if target.get(key) not in (None, "")}
        if "dbname" not in self.params:
            raise ProjectError(f"The Postgres target '{project.target_name}' has no dbname.")
        self.params.setdefault("connect_timeout", 10)
        self.params["application_name"] = "martsmith"
        self._con: Any = None

    @property
    def where(self) -> str:
        return f"{self.params.get('host', 'localhost')}:{self.params.get('port', 5432)}/{self.params['dbname']}"

    @property
    def con(self):
        if self._con is None:
            import psycopg2  # dbt-postgres's driver, on first use

            try:
                self._con = psycopg2.connect(**self.params)
            except psycopg2.Error as exc:
                raise WarehouseError(
                    f"Cannot connect to PostgreSQL at {self.where}: {str(exc).strip()}",
                    hint="Check the profile target (host, port, user, password, dbname) and that the server is up.",
                ) from exc
            self._con.autocommit = True
        return self._con

    def translate(self, sql: str) -> str:
        return to_dialect(sql, "postgres")

    def query_native(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self._run(sql, params)[1]

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict]:
        names, rows = self._run(self.translate(sql), params)
        return [dict(zip(names, row)) for row in rows]

    def _run(self, sql: str, params: list[Any] | None) -> tuple[list[str], list[tuple]]:
        import psycopg2

        guarded = self._read_only_depth > 0
        with self.con.cursor() as cur:
            try:
                if guarded:
                    cur.execute("savepoint martsmith_query")
                cur.execute(pyformat(sql), list(params or []))
                names = [d[0] for d in cur.description] if cur.description else []
                rows = cur.fetchall() if cur.description else []
                if guarded:
                    cur.execute("release savepoint martsmith_query")
                return names, rows
            except psycopg2.Error as exc:
                if guarded:
                    try:
                        cur.execute("rollback to savepoint martsmith_query")
                    except psycopg2.Error:
                        pass  # the transaction itself is gone: reported by _rollback
                raise WarehouseError(f"Query failed: {str(exc).strip()}\n{sql}") from exc

    def _hide_temp(self, column: str) -> str:
        return f" and {column} not like 'pg_temp%' and {column} not like 'pg_toast%'"

    def columns(self, schemas: list[str] | None = None) -> dict[tuple[str, str], list[tuple[str, str]]]:
        return {k: [(c, duckdb_type(t)) for c, t in cols] for k, cols in super().columns(schemas).items()}

    def temp_columns(self, name: str) -> list[tuple[str, str]]:
        return [(c, duckdb_type(t)) for c, t in self._temp_columns(name)]

    def _temp_columns(self, name: str) -> list[tuple[str, str]]:
        return self.query_native(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = (select nspname from pg_namespace where oid = pg_my_temp_schema()) "
            "and table_name = ? order by ordinal_position",
            [name],
        )

    def view_definition(self, schema: str, name: str) -> str:
        (body,) = self.query_native(
            "select pg_get_viewdef(c.oid, true) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = ? and c.relname = ?",
            [schema, name],
        )[0]
        return f"create or replace view {_quote(schema)}.{_quote(name)} as {str(body).rstrip().rstrip(';')}"

    def user_schemas(self) -> list[str]:
        return [
            s
            for (s,) in self.query_native(
                f"select nspname from pg_namespace where nspname {_NOT_SYSTEM} "
                "and nspname not like 'pg_temp%' and nspname not like 'pg_toast%'"
            )
        ]

    def relation_states(self) -> list[tuple[str, str, str, int | None, str | None, list[str]]]:
        rows = self.query_native(
            "select case when c.relkind in ('v', 'm') then 'view' else 'table' end, n.nspname, c.relname, "
            "greatest(c.reltuples, 0)::bigint, "
            "case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid, true) end, "
            "array(select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            f"where c.relkind in ('r', 'p', 'v', 'm') and n.nspname {_NOT_SYSTEM} "
            "and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast%'"
        )
        # reltuples is an estimate (-1 before the first analyze): a table never analyzed counts as
        # small, so it gets a checksum; the digest's count is exact either way.
        return [(k, s, n, int(e) if e else 0, d, list(c or [])) for k, s, n, e, d, c in rows]

    @property
    def label(self) -> str:
        return f"postgres {self.where}"

    def schema_comments(self) -> list[tuple[str, str | None]]:
        return self.query_native(
            f"select nspname, obj_description(oid, 'pg_namespace') from pg_namespace where nspname {_NOT_SYSTEM} "
            "and nspname not like 'pg_temp%' and nspname not like 'pg_toast%' order by 1"
        )

    def relation_comments(self, schema: str) -> list[tuple[str, str | None]]:
        return self.query_native(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = ? and c.relkind in ('r', 'p', 'v', 'm') "
            "order by 1",
            [schema],
        )

    def column_comments(self, schema: str) -> list[tuple[str, str, str, str | None]]:
        rows = self.query_native(
            "select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum) "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
            "where n.nspname = ? and c.relkind in ('r', 'p', 'v', 'm') order by c.relname, a.attnum",
            [schema],
        )
        return [(t, c, duckdb_type(d), m) for t, c, d, m in rows]

    def row_checksum(self, alias: str) -> str:
        return f"sum(hashtext({alias}::text)::numeric)"

    def load_tables(self, schema: str, source: Any, tables: tuple[str, ...]) -> dict[str, int]:
        """Copy DuckDB tables into `schema` (dropped and recreated), with COPY."""
        counts: dict[str, int] = {}
        with self.con.cursor() as cur:
            cur.execute(f"drop schema if exists {_quote(schema)} cascade; create schema {_quote(schema)}")
            for table in tables:
                described = source.execute(f"describe {_quote(schema)}.{_quote(table)}").fetchall()
                cols = ", ".join(f"{_quote(c[0])} {_pg_type(str(c[1]))}" for c in described)
                cur.execute(f"create table {_quote(schema)}.{_quote(table)} ({cols})")
                buf = io.StringIO()
                # DuckDB writes the CSV, Postgres reads it: types and nulls round-trip as text.
                rows = source.execute(f"select * from {_quote(schema)}.{_quote(table)}").fetchall()
                writer = csv.writer(buf)
                for row in rows:
                    writer.writerow(["\\N" if v is None else v for v in row])
                buf.seek(0)
                cur.copy_expert(
                    f"copy {_quote(schema)}.{_quote(table)} from stdin with (format csv, null '\\N')",
                    buf,
                )
                counts[table] = len(rows)
            for kind, name, comment in _comments(source, schema, tables):
                cur.execute(f"comment on {kind} {name} is %s", [comment])
            cur.execute("analyze")
        return counts

    def _begin(self) -> None:
        self.con.autocommit = False  # psycopg2 opens the transaction with the next statement

    def _rollback(self) -> None:
        import psycopg2

        try:
            self.con.rollback()
        except psycopg2.Error as exc:
            raise WarehouseError(f"Rolling back a read-only check failed: {exc}") from exc
        finally:
            self.con.autocommit = True

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _comments(source: Any, schema: str, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The sample's comments as (kind, quoted name, text) for COMMENT ON."""
    names = {
        "schema": lambda t, c: _quote(schema),
        "table": lambda t, c: f"{_quote(schema)}.{_quote(t)}",
        "column": lambda t, c: f"{_quote(schema)}.{_quote(t)}.{_quote(c)}",
    }
    return [(kind, names[kind](t, c), text) for kind, t, c, text in sample_comments(source, schema, tables)]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@lru_cache(maxsize=256)
def duckdb_type(postgres_type: str) -> str:
    """A Postgres type in DuckDB's spelling, which is how the catalog names every type whatever
    the engine (so the planner and the checks see one vocabulary).

    >>> duckdb_type("character varying"), duckdb_type("timestamp without time zone")
    ('VARCHAR', 'TIMESTAMP')
    """
    from sqlglot import exp  # the catalog of a Postgres target is being read

    try:
        spelled = exp.DataType.build(postgres_type, dialect="postgres").sql("duckdb").upper()
    except Exception:  # noqa: BLE001 - a type sqlglot does not know: kept as Postgres names it
        return postgres_type.upper()
    return _AS_DUCKDB_REPORTS.get(spelled, spelled)


def _pg_type(duckdb_type: str) -> str:
    """A DuckDB column type as Postgres spells it (sqlglot knows both)."""
    from sqlglot import exp  # only the sample load copies tables

    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("postgres")
