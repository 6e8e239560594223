"""A small query interface to the target warehouse.

DuckDB is reached directly through its Python API (fast, and the default). The connection is
opened with DuckDB's default configuration so that it can share the database instance dbt-duckdb
keeps open in the same process; another *process* holding the file is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from martsmith.context.project import Project
from martsmith.errors import ProjectError, WarehouseError


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation_sql(schema: str, table: str, database: str | None = None) -> str:
    parts = ([database] if database else []) + [schema, table]
    return ".".join(quote(p) for p in parts)


class Warehouse:
    """Runs SQL against the project's target. Use as a context manager, or call close()."""

    def __init__(self, project: Project, *, must_exist: bool = True) -> None:
        if project.adapter_type != "duckdb":
            raise ProjectError(
                f"Target '{project.target_name}' uses the '{project.adapter_type}' adapter; "
                "martsmith reads catalogs from DuckDB targets only so far.",
                hint="Point --target at a DuckDB target, or generate with --no-build and review the SQL by hand.",
            )
        path = project.duckdb_path
        if path is None:
            raise ProjectError("The DuckDB target has no database file (path is ':memory:').")
        if must_exist and not path.exists():
            raise WarehouseError(
                f"The warehouse file {path} does not exist.",
                hint="Load data first (e.g. `martsmith init DIR --sample`) or fix the profile's path.",
            )
        self.path: Path = path
        self.project = project
        self._con = None
        self._read_only_depth = 0

    @property
    def con(self):
        if self._con is None:
            import duckdb

            try:
                self._con = duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" in str(exc).lower():
                    pid = re.search(r"PID (\d+)", str(exc))
                    who = f" (process {pid.group(1)})" if pid else ""
                    raise WarehouseError(
                        f"The warehouse file {self.path} is locked by another process{who}.",
                        hint="Close the other DuckDB session (a notebook, the duckdb CLI, "
                        "another dbt run) and try again.",
                    ) from exc
                raise WarehouseError(f"Cannot open {self.path}: {exc}") from exc
            except duckdb.Error as exc:
                raise WarehouseError(f"Cannot open {self.path}: {exc}") from exc
        return self._con

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        import duckdb

        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"Query failed: {exc}\n{sql}") from exc

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def execute(self, sql: str) -> None:
        self.query(sql)

    def relations(self) -> set[tuple[str, str]]:
        """(schema, name) of every table and view in the database's user schemas."""
        rows = self.query(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog')"
        )
        return {(s, t) for s, t in rows}

    def relation_kind(self, schema: str, name: str) -> str | None:
        rows = self.query(
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
            "and table_schema not in ('information_schema', 'pg_catalog')"
        )
        params: list[Any] = []
        if schemas:
            sql += " and table_schema in (" + ", ".join("?" for _ in schemas) + ")"
            params = list(schemas)
        sql += " order by table_schema, table_name, ordinal_position"
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, dtype in self.query(sql, params):
            out.setdefault((schema, table), []).append((column, dtype))
        return out

    @contextmanager
    def read_only(self) -> Iterator[Warehouse]:
        """Run the enclosed queries in a transaction that is always rolled back: nothing they do
        persists (DuckDB's DDL is transactional too). Nested uses share the outer transaction.
        A query that ended the transaction itself (COMMIT) is reported as a WarehouseError, as
        what it did may have persisted.
        """
        import duckdb

        depth = getattr(self, "_read_only_depth", 0)
        if depth:
            self._read_only_depth = depth + 1
            try:
                yield self
            finally:
                self._read_only_depth = depth
            return
        self.execute("begin transaction")
        self._read_only_depth = 1
        try:
            yield self
        finally:
            self._read_only_depth = 0
            try:
                self.con.execute("rollback")
            except duckdb.TransactionException as exc:
                raise WarehouseError(
                    "A query in a read-only check ended its transaction itself: what it did may have persisted.",
                    hint="Check the warehouse; generated checks must be single SELECT statements.",
                ) from exc

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def open_warehouse(project: Project, must_exist: bool = True) -> Iterator[Warehouse]:
    wh = Warehouse(project, must_exist=must_exist)
    try:
        yield wh
    finally:
        wh.close()
