"""`martsmith unit-test` end to end on the sample project: real dbt, real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project

MODEL = """\
with orders as (
    select * from {{ source('shop', 'orders') }}
),

customers as (
    select * from {{ source('shop', 'customers') }}
)

select
    orders.id as order_id,
    customers.country,
    case
        when lower(orders.status) = 'completed' then 'done'
        when orders.shipped_at is null then 'pending'
        else 'other'
    end as stage,
    orders.amount
from orders
left join customers on orders.customer_id = customers.id
where orders.amount > 0
"""

pytestmark = pytest.mark.integration

USER_YAML = (
    'version: 2\n# written by hand\nmodels:\n  - name: order_stages\n    description: "One row per order."  # grain\n'
)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "models").rglob("*")) if p.is_file()}


def _add_model(root: Path, name: str, sql: str, yml: str | None = None, build: bool = True) -> None:
    folder = root / "models" / "marts"
    (folder / f"{name}.sql").write_text(sql)
    if yml:
        (folder / f"{name}.yml").write_text(yml)
    if build:
        res = Dbt(load_project(root)).invoke(["run", "--select", name])
        assert res.success, res.error


def _run(root: Path, *args: str):
    return CliRunner().invoke(main, ["unit-test", *args, "--project-dir", str(root)])


@pytest.fixture
def project(sample_project: Path) -> Path:
    _add_model(sample_project, "order_stages", MODEL, USER_YAML)
    return sample_project


def test_writes_a_unit_test_that_dbt_passes(project: Path):
    result = _run(project, "order_stages", "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["written"] and out["passed"]
    assert out["file"] == "models/marts/order_stages.yml"
    assert out["given"] == {"source('shop', 'customers')": 5, "source('shop', 'orders')": 5}
    reasons = {c["reason"]: c["covered"] for c in out["coverage"]}
    assert all(reasons.values()), reasons
    assert any("a key with a match" in r for r in reasons) and any("a key without a match" in r for r in reasons)
    assert any(r.startswith("stage: ELSE") for r in reasons)

    text = (project / "models/marts/order_stages.yml").read_text()
    assert text.startswith(USER_YAML)  # what the user wrote is kept as written
    [test] = yaml.safe_load(text)["unit_tests"]
    assert test["name"] == "order_stages__real_rows" and test["model"] == "order_stages"
    assert {g["input"] for g in test["given"]} == {"source('shop', 'orders')", "source('shop', 'customers')"}
    orders = next(g for g in test["given"] if "orders" in g["input"])
    assert set(orders["rows"][0]) == {"id", "customer_id", "status", "shipped_at", "amount"}
    assert {r["stage"] for r in test["expect"]["rows"]} == {"done", "pending", "other"}

    res = Dbt(load_project(project)).invoke(["test", "--select", "test_type:unit"])
    assert res.success, res.error
    assert [(n.name, n.status) for n in res.nodes] == [("order_stages__real_rows", "pass")]


def test_dry_run_writes_nothing(project: Path):
    before = _tree(project)
    result = _run(project, "order_stages", "--dry-run", "--rows", "3")
    assert result.exit_code == 0, result.output
    assert "unit_tests:" in result.stdout and "(not written)" in result.stdout
    assert _tree(project) == before


def test_unknown_model_exits_2_with_a_suggestion_and_writes_nothing(project: Path):
    before = _tree(project)
    result = _run(project, "order_stage", "--yes")
    assert result.exit_code == 2, result.output
    assert "No source or model named 'order_stage'" in result.stderr
    assert "Did you mean order_stages?" in result.stderr
    assert _tree(project) == before


def test_unbuilt_model_and_empty_inputs_are_refused(sample_project: Path):
    root = sample_project
    con = duckdb.connect(str(root / "shop.duckdb"))
    con.execute("create table raw.returns as select * from raw.orders limit 0")
    con.close()
    sources = root / "models/staging/shop/_shop__sources.yml"
    data = yaml.safe_load(sources.read_text())
    data["sources"][0]["tables"].append({"name": "returns"})
    sources.write_text(yaml.safe_dump(data, sort_keys=False))
    _add_model(
        root, "returns_by_status", "select status, count(*) as n from {{ source('shop', 'returns') }} group by 1"
    )
    _add_model(root, "not_built_yet", "select id from {{ source('shop', 'orders') }}", build=False)
    before = _tree(root)

    result = _run(root, "returns_by_status", "--yes")
    assert result.exit_code == 2, result.output
    assert "The inputs of 'returns_by_status' are empty" in result.stderr

    result = _run(root, "not_built_yet", "--yes")
    assert result.exit_code == 2, result.output
    assert "Model 'not_built_yet' is not built in the warehouse yet." in result.stderr
    assert "dbt build --select +not_built_yet" in result.stderr
    assert _tree(root) == before


def test_a_failing_unit_test_is_rolled_back(project: Path, monkeypatch):
    import martsmith.unittests.generate as generate
    from martsmith.unittests.expect import Expected

    real = generate.expected_rows

    def wrong(sql, tables):
        got = real(sql, tables)
        return Expected(got.columns, [{**r, "stage": "wrong"} for r in got.rows])

    monkeypatch.setattr(generate, "expected_rows", wrong)
    before = _tree(project)
    result = _run(project, "order_stages", "--yes")
    assert result.exit_code == 6, result.output
    assert "dbt test of the generated unit test failed; nothing was kept" in result.stderr
    assert _tree(project) == before


def test_a_mart_from_martsmith_model_gets_a_unit_test_with_expected_rows(sample_project: Path):
    """Regression: deduplicated import CTEs (QUALIFY, compiled on DuckDB), a left join, GROUP BY, date_trunc and an md5 key
    used to give no orders and an empty `expect`."""
    root = sample_project
    made = CliRunner().invoke(
        main, ["model", "total revenue by customer country per month", "--yes", "--project-dir", str(root)]
    )
    assert made.exit_code == 0, made.output
    name = "total_revenue_by_customer_country_order_month"
    assert "martsmith.deduplicate(" in (root / f"models/marts/{name}.sql").read_text()  # qualify, compiled on DuckDB

    result = _run(root, name, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["written"] and out["passed"]
    assert out["expected_rows"] > 0
    assert all(n > 0 for n in out["given"].values()), out["given"]
    reasons = {c["reason"]: c["covered"] for c in out["coverage"]}
    assert all(reasons.values()), reasons
    assert any("left join" in r and "a key with a match" in r for r in reasons), reasons
    assert any("left join" in r and "a key without a match" in r for r in reasons), reasons

    path = root / f"models/marts/{name}.yml"
    text = path.read_text()
    [test] = yaml.safe_load(text)["unit_tests"]
    assert "generated" not in test["config"]["meta"]["martsmith"]
    assert test["expect"]["rows"]
    for given in test["given"]:  # the dedupe's partition and order columns are given
        assert given["rows"] and all(r["id"] is not None and r["updated_at"] for r in given["rows"])

    # Same inputs, same bytes: planning again renders the file exactly as written.
    again = _run(root, name, "--dry-run", "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["yml"] == text

    res = Dbt(load_project(root)).invoke(["test", "--select", f"{name},test_type:unit"])
    assert res.success, res.error
    assert [(n.name, n.status) for n in res.nodes] == [(f"{name}__real_rows", "pass")]
