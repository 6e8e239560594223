"""Date parts and the types martsmith declares for them, on a real PostgreSQL and on DuckDB.

`extract(year from d)` is a bigint on DuckDB and a numeric on PostgreSQL, so a date part
declared `bigint` is one on only one of them. The star schema's `dim_date` declares its parts
bigint (star/columns.py: the ERD and the stand-in catalog its checks run against) and spells
them `extract(...)`: on Postgres they come out numeric. `martsmith.date_part` casts to
dbt.type_bigint() and is a bigint on both, with the same values (ISO weeks across a new year).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse
from martsmith.star.columns import DATE_COLUMNS
from martsmith.star.render import render_date_dimension
from martsmith.star.spec import DateDimension

REPO = Path(__file__).resolve().parents[2]
PARTS = ("year", "quarter", "month", "week", "day")
INTEGER_TYPES = {"bigint", "BIGINT"}

DATE_PARTS = (
    "with days as ({{ martsmith.date_spine('2024-12-27', '2025-01-06') }})\n"
    "select\n    days.date_day,\n"
    + "".join(f"    {{{{ martsmith.date_part('{p}', 'days.date_day') }}}} as {p}_part,\n" for p in PARTS)
    + "    extract(year from days.date_day) as raw_extract_year\nfrom days\n"
)


def _build(root: Path, target: dict) -> dict[str, dict[str, str]]:
    """A project of two models (the date parts, the star's dim_date), built; {model: {column: type}}."""
    root.mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "parts", "version": "1.0.0", "config-version": 2, "profile": "parts"})
    )
    (root / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO)}]}))
    (root / "profiles.yml").write_text(yaml.safe_dump({"parts": {"target": "dev", "outputs": {"dev": target}}}))
    (root / "models").mkdir()
    (root / "models" / "date_parts.sql").write_text(DATE_PARTS)
    dim = render_date_dimension(DateDimension(start_date="2024-12-27", end_date="2025-01-06"))
    (root / "models" / "dim_date.sql").write_text(dim)
    project = load_project(root)
    dbt = Dbt(project)
    dbt.deps()
    result = dbt.invoke(["run", "--full-refresh"])
    assert result.success, result.error
    with Warehouse(project) as wh:
        types: dict[str, dict[str, str]] = {}
        for table, column, data_type in wh.query_native(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [project.schema],
        ):
            types.setdefault(table, {})[column] = data_type
        types["_rows"] = {
            str(r[0]): repr(tuple(int(v) for v in r[1:]))
            for r in wh.query_native(f"select * from {project.schema}.date_parts order by 1")
        }
    return types


@pytest.fixture(scope="module")
def built(postgres_server, tmp_path_factory) -> dict[str, dict[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("parts")
    db = postgres_server.create_database("date_parts")
    return {
        "duckdb": _build(folder / "duckdb", {"type": "duckdb", "path": str(folder / "parts.duckdb"), "threads": 1}),
        "postgres": _build(folder / "postgres", postgres_server.target(db)),
    }


def test_date_part_is_a_bigint_with_the_same_values_on_both_engines(built):
    for engine in ("duckdb", "postgres"):
        columns = built[engine]["date_parts"]
        assert {columns[f"{p}_part"] for p in PARTS} <= INTEGER_TYPES, (engine, columns)
    assert built["duckdb"]["_rows"] == built["postgres"]["_rows"]
    # 2024-12-30 is in ISO week 1 of 2025 on both
    assert built["postgres"]["_rows"]["2024-12-30"] == repr((2024, 4, 12, 1, 30, 2024))


def test_a_bare_extract_is_numeric_on_postgres(built):
    """Why the macro exists: the same expression, two types."""
    assert built["duckdb"]["date_parts"]["raw_extract_year"] == "BIGINT"
    assert built["postgres"]["date_parts"]["raw_extract_year"] == "numeric"


def _declared_mismatches(types: dict[str, str]) -> dict[str, tuple[str, str]]:
    declared = {name: dtype for name, dtype, _, _ in DATE_COLUMNS}
    return {
        c: (declared[c], actual)
        for c, actual in types.items()
        if declared[c] == "bigint" and actual.lower() != "bigint"
    }


def test_dim_date_has_the_types_the_star_declares_on_duckdb(built):
    assert _declared_mismatches(built["duckdb"]["dim_date"]) == {}


def test_dim_date_has_the_types_the_star_declares_on_postgres(built):
    assert _declared_mismatches(built["postgres"]["dim_date"]) == {}
