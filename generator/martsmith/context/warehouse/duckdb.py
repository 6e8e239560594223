"""DuckDB, reached directly through its Python API (fast, and the default).

The connection is opened with DuckDB's default configuration so that it can share the database
instance dbt-duckdb keeps open in the same process; another *process* holding the file is
reported as such.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from martsmith.context.project import Project
from martsmith.context.warehouse.base import SYSTEM_SCHEMAS, Warehouse
from martsmith.errors import ProjectError, WarehouseError

_NOT_SYSTEM = "schema_name not in (" + ", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS) + ")"


class DuckDBWarehouse(Warehouse):
    adapter = "duckdb"
    dialect = "duckdb"
    sqlfluff_dialect = "duckdb"
    temp_schema = "temp"

    def __init__(self, project: Project, *, must_exist: bool = True) -> None:
        super().__init__(project, must_exist=must_exist)
        path = project.duckdb_path
        if path is None:
            raise ProjectError("The DuckDB target has no database file (path is ':memory:').")
        if must_exist and not path.exists():
            raise WarehouseError(
                f"The warehouse file {path} does not exist.",
                hint="Load data first (e.g. `martsmith init DIR --sample`) or fix the profile's path.",
            )
        self.path: Path = path
        self._con = None

    @property
    def con(self):
        if self._con is None:
            import duckdb  # the driver, on first use

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

    def query_native(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        import duckdb

        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"Query failed: {exc}\n{sql}") from exc

    def query_dicts(self, sql: str, params: list[Any] | None = None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def temp_columns(self, name: str) -> list[tuple[str, str]]:
        return [
            (c, t)
            for c, t in self.query_native(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = 'temp' and table_name = ? order by ordinal_position",
                [name],
            )
        ]

    def view_definition(self, schema: str, name: str) -> str:
        (sql,) = self.query_native(
            "select sql from duckdb_views() where database_name = current_database() "
            "and schema_name = ? and view_name = ?",
            [schema, name],
        )[0]
        return str(sql)

    def user_schemas(self) -> list[str]:
        return [
            s
            for (s,) in self.query_native(
                f"select schema_name from duckdb_schemas() where database_name = current_database() and {_NOT_SYSTEM}"
            )
        ]

    def relation_states(self) -> list[tuple[str, str, str, int | None, str | None, list[str]]]:
        return self.query_native(
            "with cols as (select schema_name, table_name, "
            "list(column_name || ' ' || data_type order by column_index) as cols from duckdb_columns() "
            f"where database_name = current_database() and {_NOT_SYSTEM} group by all) "
            "select 'table', t.schema_name, t.table_name, t.estimated_size, null, c.cols "
            "from duckdb_tables() t left join cols c using (schema_name, table_name) "
            f"where t.database_name = current_database() and not t.temporary and t.{_NOT_SYSTEM} "
            "union all "
            "select 'view', v.schema_name, v.view_name, null, v.sql, c.cols "
            "from duckdb_views() v left join cols c on c.schema_name = v.schema_name and c.table_name = v.view_name "
            f"where v.database_name = current_database() and not v.internal and not v.temporary and v.{_NOT_SYSTEM}"
        )

    @property
    def label(self) -> str:
        return self.path.name

    def schema_comments(self) -> list[tuple[str, str | None]]:
        return self.query_native(
            "select schema_name, comment from duckdb_schemas() where database_name = current_database() "
            "and (not internal or schema_name = 'main') and schema_name not in ('information_schema', 'pg_catalog') "
            "order by schema_name"
        )

    def relation_comments(self, schema: str) -> list[tuple[str, str | None]]:
        return self.query_native(
            "select table_name, comment from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? union all "
            "select view_name, comment from duckdb_views() where database_name = current_database() "
            "and schema_name = ? and not internal order by 1",
            [schema, schema],
        )

    def column_comments(self, schema: str) -> list[tuple[str, str, str, str | None]]:
        return self.query_native(
            "select table_name, column_name, data_type, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? order by table_name, column_index",
            [schema],
        )

    def row_checksum(self, alias: str) -> str:
        return f"sum(hash({alias})::hugeint)"

    def is_single_create_view(self, sql: str) -> bool:
        try:
            statements = self.con.extract_statements(sql)
        except Exception:  # noqa: BLE001 - unparsable: not replayed
            return False
        return (
            len(statements) == 1
            and str(statements[0].type).endswith("CREATE")
            and re.match(r"\s*create\s+(or\s+replace\s+)?view\s", sql, re.IGNORECASE) is not None
        )

    def load_tables(self, schema: str, source: Any, tables: tuple[str, ...]) -> dict[str, int]:
        raise NotImplementedError("the sample is loaded into a DuckDB file directly")

    def stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def _begin(self) -> None:
        self.query_native("begin transaction")

    def _rollback(self) -> None:
        import duckdb

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
