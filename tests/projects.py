"""A minimal project object for tests that need a Project and a DuckDB file but not dbt.

>>> import tempfile, pathlib
>>> p = duckdb_project(pathlib.Path(tempfile.mkdtemp()), "create schema s", schema="s")
>>> (p.schema, p.duckdb_path.name, p.duckdb_path.exists())
('s', 'w.duckdb', True)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from martsmith.context.project import Project


def duckdb_project(
    root: Path, setup_sql: str | None = None, *, schema: str | None = None, db: str = "w.duckdb", create: bool = True
) -> Project:
    """Project `p` (target dev) on `root/db`, the file created and `setup_sql` run on it when
    `create` (else the file is only named)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / db
    if create:
        con = duckdb.connect(str(path))
        try:
            if setup_sql:
                con.execute(setup_sql)
        finally:
            con.close()
    target = {"type": "duckdb", "path": str(path)} | ({"schema": schema} if schema else {})
    return Project(root=root, name="p", profile_name="p", profiles_dir=root, target_name="dev", target=target)


# The schema most write/journal tests start from: one table of five rows, one view.
TABLE_AND_VIEW = (
    "create schema s; create table s.t as select range as a from range(5); create view s.v as select 2 as b"
)
