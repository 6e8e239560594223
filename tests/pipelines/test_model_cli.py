"""`martsmith model` end to end: real offline planner, real sqlfluff, real dbt on DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration

REQUEST = "total revenue by customer country per month"


def run(project, *args):
    return CliRunner().invoke(main, ["model", *args, "--project-dir", str(project)], catch_exceptions=False)


def test_builds_a_tested_model(sample_project):
    result = run(sample_project, REQUEST, "--name", "revenue_by_country", "--yes")
    assert result.exit_code == 0, result.output
    sql = sample_project / "models/marts/revenue_by_country.sql"
    yml = sample_project / "models/marts/revenue_by_country.yml"
    assert sql.is_file() and yml.is_file()
    text = sql.read_text()
    assert "source('shop', 'orders')" in text and "source('shop', 'customers')" in text  # deduplicated imports
    assert "martsmith.surrogate_key" in text
    props = yaml.safe_load(yml.read_text())["models"][0]
    assert props["config"]["meta"]["martsmith"]["request"] == REQUEST
    assert props["config"]["meta"]["martsmith"]["planner"] == "offline"
    assert props["description"].startswith("One row per")
    key = next(c for c in props["columns"] if c["name"] == "revenue_by_country_key")
    assert key["data_tests"] == ["unique", "not_null"]
    assert "rows; tests: " in result.output and "3 passed" in result.output

    import duckdb

    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    try:
        (rows,) = con.execute("select count(*) from main.revenue_by_country").fetchone()
        # The model agrees with the same question asked by hand: orders and customers carry
        # late-arriving updates, so each is taken at its latest row (no double counting).
        (total,) = con.execute("select sum(total_revenue) from main.revenue_by_country").fetchone()
        (expected,) = con.execute(
            "select sum(amount) from (select * from raw.orders "
            "qualify row_number() over (partition by id order by updated_at desc) = 1)"
        ).fetchone()
    finally:
        con.close()
    assert rows > 0
    assert total == expected


def test_dry_run_writes_nothing(sample_project, snapshot):
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "(not written)" in result.output and "select" in result.output
    assert snapshot(sample_project) == before


def test_json_output(sample_project):
    result = run(
        sample_project, "number of orders per status", "--name", "orders_by_status", "--yes", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "orders_by_status" and data["built"] is True
    assert data["files"] == ["models/marts/orders_by_status.sql", "models/marts/orders_by_status.yml"]
    assert data["rows"] > 0 and data["tests_passed"] >= 2


def test_existing_model_needs_force(sample_project, snapshot):
    first = run(sample_project, "number of orders per status", "--name", "m1", "--yes")
    assert first.exit_code == 0, first.output
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--name", "m1", "--yes")
    assert result.exit_code == 7
    assert "already exists" in result.output and "--force" in result.output
    assert snapshot(sample_project) == before
    forced = run(sample_project, "number of customers per country", "--name", "m1", "--yes", "--force")
    assert forced.exit_code == 0, forced.output


def test_not_a_terminal_requires_yes(sample_project, snapshot):
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status")
    assert result.exit_code == 7
    assert "--yes" in result.output
    assert snapshot(sample_project) == before


@pytest.mark.parametrize(
    "request_text, code, fragment",
    [
        ("", 2, "empty"),
        ("   ", 2, "empty"),
        ("asdf qwerty zxcv", 2, "could not place"),
    ],
)
def test_bad_requests(sample_project, snapshot, request_text, code, fragment):
    before = snapshot(sample_project)
    result = run(sample_project, request_text, "--yes")
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert snapshot(sample_project) == before


def test_failing_build_leaves_tree_and_warehouse_as_they_were(sample_project, snapshot, monkeypatch):
    from martsmith.pipelines import model as pipeline
    from martsmith.spec import TestSpec

    original = pipeline.model_tests

    def with_wrong_test(spec, *args):
        # A test the data is sure to fail: the grain column takes a value outside this list.
        found = original(spec, *args)
        found.tests.append(
            TestSpec(name="accepted_values", column=spec.dimensions[0].name, arguments={"values": ["nope"]})
        )
        return found

    monkeypatch.setattr(pipeline, "model_tests", with_wrong_test)
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--name", "doomed", "--yes")
    assert result.exit_code == 6, result.output
    assert "dbt build failed" in result.output and "accepted_values" in result.output
    assert snapshot(sample_project) == before


def test_failing_forced_rebuild_restores_the_old_table(sample_project, snapshot, monkeypatch):
    import duckdb

    from martsmith.pipelines import model as pipeline
    from martsmith.spec import TestSpec

    assert run(sample_project, "number of orders per status", "--name", "keep_me", "--yes").exit_code == 0
    before = snapshot(sample_project)
    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    old_rows = sorted(con.execute("select * from main.keep_me").fetchall())
    con.close()
    original = pipeline.model_tests

    def with_wrong_test(spec, *args):
        found = original(spec, *args)
        found.tests.append(
            TestSpec(name="accepted_values", column=spec.dimensions[0].name, arguments={"values": ["nope"]})
        )
        return found

    monkeypatch.setattr(pipeline, "model_tests", with_wrong_test)
    result = run(sample_project, "number of customers per country", "--name", "keep_me", "--yes", "--force")
    assert result.exit_code == 6, result.output
    assert snapshot(sample_project) == before
    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    assert sorted(con.execute("select * from main.keep_me").fetchall()) == old_rows
    con.close()


def test_no_build_compiles_only(sample_project, snapshot):
    _, relations_before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--name", "compiled_only", "--yes", "--no-build")
    assert result.exit_code == 0, result.output
    assert (sample_project / "models/marts/compiled_only.sql").is_file()
    assert snapshot(sample_project)[1] == relations_before


def test_locked_warehouse(sample_project, snapshot):
    before = snapshot(sample_project)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(sample_project / "shop.duckdb")!r})
            print('locked', flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run(sample_project, "number of orders per status", "--yes")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 4, result.output
    assert "locked by another process" in result.output
    assert snapshot(sample_project) == before


def test_missing_profile(sample_project):
    (sample_project / "profiles.yml").unlink()
    result = CliRunner(env={"DBT_PROFILES_DIR": str(sample_project / "nowhere")}).invoke(
        main, ["model", "number of orders", "--project-dir", str(sample_project), "--yes"]
    )
    assert result.exit_code == 3
    assert "profiles.yml" in result.output


def test_missing_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["model", "number of orders", "--yes"])
    assert result.exit_code == 3
    assert "No dbt project found" in result.output


def test_inferred_tests_are_written_and_pass(sample_project):
    result = run(sample_project, "number of orders per status", "--name", "per_status", "--yes")
    assert result.exit_code == 0, result.output
    props = yaml.safe_load((sample_project / "models/marts/per_status.yml").read_text())["models"][0]
    count = next(c for c in props["columns"] if c["name"] == "order_count")
    # A count is never negative: inferred from the preview's profile, then built and passed in dbt.
    assert "martsmith.not_negative" in count["data_tests"]
    assert "4 passed" in result.output


def test_generated_aggregates_are_not_re_aggregated(sample_project):
    request = "average order amount by customer city"
    assert run(sample_project, request, "--name", "avg_first", "--yes").exit_code == 0
    result = run(sample_project, request, "--name", "avg_second", "--yes")
    assert result.exit_code == 0, result.output
    sql = (sample_project / "models/marts/avg_second.sql").read_text()
    # An average of averages would be wrong: the second model reads the source again.
    assert "ref('avg_first')" not in sql
    assert "source('shop', 'orders')" in sql


@pytest.fixture
def terminal(monkeypatch):
    """Make CliRunner's stdin look like a terminal, so the command asks before writing."""
    import click.testing

    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)


def test_in_a_terminal_the_plan_is_shown_and_no_writes_nothing(sample_project, snapshot, terminal):
    before = snapshot(sample_project)
    result = CliRunner().invoke(
        main, ["model", "number of orders per status", "--project-dir", str(sample_project)], input="n\n"
    )
    assert result.exit_code == 7, result.output
    assert "One row per status" in result.output and "Write and build this model?" in result.output
    assert "Nothing was written." in result.output
    assert snapshot(sample_project) == before


def test_in_a_terminal_yes_builds(sample_project, terminal):
    result = CliRunner().invoke(
        main,
        ["model", "number of orders per status", "--name", "asked", "--project-dir", str(sample_project)],
        input="y\n",
    )
    assert result.exit_code == 0, result.output
    assert (sample_project / "models/marts/asked.sql").is_file()


def test_a_target_martsmith_cannot_read(sample_project, snapshot):
    profiles = sample_project / "profiles.yml"
    profiles.write_text(profiles.read_text().replace("type: duckdb", "type: trino"))
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--yes")
    assert result.exit_code == 3, result.output
    assert "'trino' adapter" in result.output and "adapters only: duckdb, postgres" in result.output
    assert snapshot(sample_project) == before


def test_project_without_the_package(sample_project, snapshot):
    (sample_project / "packages.yml").unlink()
    import shutil

    shutil.rmtree(sample_project / "dbt_packages")
    before = snapshot(sample_project)
    result = run(sample_project, "number of orders per status", "--yes")
    assert result.exit_code == 3, result.output
    assert "martsmith dbt package is not installed" in result.output and "packages.yml" in result.output
    assert snapshot(sample_project) == before
