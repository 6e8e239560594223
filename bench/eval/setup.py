"""Build the project of an evaluation set: `martsmith init` (no sample), the set's warehouse.sql
loaded into its DuckDB file, and schema raw declared as a source. Used by `make eval`.

    .venv/bin/python bench/eval/setup.py bikeshare /tmp/eval-bikeshare
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = {"bikeshare": "bikes", "library": "lending", "clinic": "practice"}


def build(name: str, root: Path) -> Path:
    import duckdb

    from martsmith.context.project import load_project
    from martsmith.scaffold.init import init_project
    from martsmith.scaffold.sources import declare_source

    if not (root / "dbt_project.yml").exists():
        init_project(root, sample=False)
    project = load_project(root)
    assert project.duckdb_path is not None
    con = duckdb.connect(str(project.duckdb_path))
    try:
        con.execute((HERE / name / "warehouse.sql").read_text())
    finally:
        con.close()
    declare_source(project, "raw", SOURCES[name], force=True)
    return root


if __name__ == "__main__":
    print(build(sys.argv[1], Path(sys.argv[2]).resolve()))
