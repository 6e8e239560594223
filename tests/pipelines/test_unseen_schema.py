"""The whole path on a schema none of the planner's fixtures knows: an HR warehouse declared
with `martsmith sources`, then models from plain words, checked against SQL written by hand."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hr(tmp_path_factory):
    root = tmp_path_factory.mktemp("hr") / "people"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(root)], catch_exceptions=False).exit_code == 0
    con = duckdb.connect(str(root / "people.duckdb"))
    con.execute("create schema hris")
    con.execute(
        "create table hris.departments as select i as department_id, 'Dept ' || i as department_name, "
        "case when i % 2 = 0 then 'EMEA' else 'AMER' end as region from range(1, 9) t(i)"
    )
    con.execute(
        "create table hris.employees as select i as employee_id, 'Person ' || i as full_name, "
        "1 + i % 8 as department_id, date '2020-01-01' + (i * 7)::int as hired_on, "
        "(40000 + (i * 137) % 60000)::decimal(10, 2) as salary, "
        "case when i % 9 = 0 then 'terminated' else 'active' end as status from range(1, 400) t(i)"
    )
    con.execute(
        "create table hris.timesheets as select i as timesheet_id, 1 + i % 399 as employee_id, "
        "date '2025-01-01' + (i % 300)::int as work_date, (4 + i % 5)::decimal(4, 1) as hours "
        "from range(1, 5000) t(i)"
    )
    con.close()
    declared = runner.invoke(main, ["sources", "--schema", "hris", "--name", "hr", "--project-dir", str(root)])
    assert declared.exit_code == 0, declared.output
    return root


def build(root, request, name):
    result = CliRunner().invoke(main, ["model", request, "--name", name, "--yes", "--project-dir", str(root)])
    assert result.exit_code == 0, result.output
    return result


def query(root, sql):
    con = duckdb.connect(str(root / "people.duckdb"))
    try:
        return sorted(con.execute(sql).fetchall())
    finally:
        con.close()


def test_average_salary_by_department(hr):
    build(hr, "average salary by department", "avg_salary")
    got = query(hr, "select department_name, avg_salary from main.avg_salary")
    want = query(
        hr,
        "select d.department_name, avg(e.salary) from hris.employees e "
        "left join hris.departments d using (department_id) group by 1",
    )
    assert [(a, float(b)) for a, b in got] == [(a, float(b)) for a, b in want]


def test_active_employees_by_region(hr):
    build(hr, "number of active employees by region", "active_by_region")
    got = query(hr, "select department_region, employee_count from main.active_by_region")
    want = query(
        hr,
        "select d.region, count(*) from hris.employees e left join hris.departments d "
        "using (department_id) where e.status = 'active' group by 1",
    )
    assert got == want


def test_hours_in_a_year_by_department_through_two_joins(hr):
    build(hr, "hours worked in 2025 by department name", "hours_2025")
    got = query(hr, "select department_name, total_hours from main.hours_2025")
    want = query(
        hr,
        "select d.department_name, sum(t.hours) from hris.timesheets t "
        "left join hris.employees e using (employee_id) left join hris.departments d using (department_id) "
        "where t.work_date >= date '2025-01-01' and t.work_date < date '2026-01-01' group by 1",
    )
    assert got == want


def test_a_word_it_cannot_place(hr):
    result = CliRunner().invoke(main, ["model", "headcount by department", "--yes", "--project-dir", str(hr)])
    assert result.exit_code == 2
    assert "could not place 'headcount'" in result.output
