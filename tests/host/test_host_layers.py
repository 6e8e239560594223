"""One entity at several layers in a jaffle-shop host (tests/host/project): seeds raw_* read with
ref() by stg_* models, the marts customers and orders built on staging.

`martsmith sources` leaves out what the project builds itself; a source declared over a seed or
over a model's own table (as an older `sources --schema main` wrote) is one entity with them, so
requests that name an order, a status value or a customer column read the most downstream layer
instead of calling the layers ambiguous.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.scaffold.package import package_path

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent / "project"

# What `martsmith sources --schema main` declared before it left out dbt's own relations.
SOURCES_OVER_EVERYTHING = """\
version: 2

sources:
  - name: jaffle
    schema: main
    tables:
      - name: raw_customers
      - name: raw_orders
      - name: raw_payments
      - name: customers
      - name: orders
      - name: stg_orders
"""


def _dbt(root: Path, *args: str) -> None:
    # dbt in-process, as martsmith runs it (context/dbt.py), on the host's own profile.
    from martsmith.context.dbt import Dbt
    from martsmith.context.project import load_project

    result = Dbt(load_project(root, root)).invoke(list(args))
    assert result.success, f"dbt {' '.join(args)}: {result.error}"


def _cli(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--project-dir", str(root)])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layers") / "jaffle"
    shutil.copytree(FIXTURE, root)
    (root / "packages.yml").write_text(f"packages:\n  - local: {package_path()}\n")
    _dbt(root, "deps")
    _dbt(root, "build")
    return root


@pytest.fixture
def host(built: Path, tmp_path: Path) -> Path:
    """A copy of the built host (its DuckDB file included) for one test to change."""
    root = tmp_path / "jaffle"
    shutil.copytree(built, root, symlinks=True)
    return root


def test_sources_leaves_out_what_dbt_builds_and_says_how_many(host: Path):
    con = duckdb.connect(str(host / "jaffle.duckdb"))
    con.execute("create table main.raw_refunds as select 1 as id, 2 as order_id, 500 as amount")
    con.execute("create table main.orders__dbt_tmp as select 1 as id")  # a build dbt left behind
    con.close()

    result = _cli(host, "sources", "--schema", "main", "--name", "loaded", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [t["name"] for t in out["tables"]] == ["raw_refunds"]
    assert out["left_out"] == {
        "count": 9,
        "by": {"model": 5, "seed": 3, "temporary": 1},
        "tables": [
            "customers",
            "orders",
            "orders__dbt_tmp",
            "raw_customers",
            "raw_orders",
            "raw_payments",
            "stg_customers",
            "stg_orders",
            "stg_payments",
        ],
    }
    declared = yaml.safe_load((host / out["path"]).read_text())
    assert [t["name"] for t in declared["sources"][0]["tables"]] == ["raw_refunds"]

    text = _cli(host, "sources", "--schema", "main", "--name", "again")
    assert text.exit_code == 0, text.output
    assert "left out 9 relations this dbt project builds itself (5 models, 3 seeds, 1 temporary relation)" in (
        text.stdout
    )


def test_sources_refuses_a_schema_dbt_builds_entirely(host: Path):
    result = _cli(host, "sources", "--schema", "main", "--name", "jaffle")
    assert result.exit_code == 2, result.output
    assert "Nothing to declare in schema 'main': every table of it is built by this dbt project." in result.output
    assert "Left out 8 relations this dbt project builds itself (5 models, 3 seeds)" in result.output
    assert "Traceback" not in result.output
    assert not (host / "models" / "staging").exists()


def _catalog(root: Path):
    from martsmith.context.load import load_context
    from martsmith.context.project import load_project

    return load_context(load_project(root, root), lambda _: None).catalog


def test_a_source_over_seeds_and_models_is_one_entity_with_them(host: Path):
    (host / "models" / "_jaffle__sources.yml").write_text(SOURCES_OVER_EVERYTHING)
    catalog = _catalog(host)
    labels = {t.label for t in catalog.tables}
    # The same relation as a model is that model; over a seed it stays, as the seed's stand-in.
    assert {"source:jaffle.orders", "source:jaffle.customers", "source:jaffle.stg_orders"}.isdisjoint(labels)
    assert catalog.aliases == {
        "source:jaffle.customers": "customers",
        "source:jaffle.orders": "orders",
        "source:jaffle.stg_orders": "stg_orders",
    }
    assert catalog.table("source:jaffle.orders").label == "orders"
    assert catalog.is_upstream_of("source:jaffle.raw_orders", "stg_orders")
    assert catalog.is_upstream_of("source:jaffle.raw_orders", "orders")
    assert catalog.is_upstream_of("source:jaffle.raw_payments", "stg_payments")


@pytest.mark.parametrize(
    ("request_", "reads"),
    [
        ("number of orders per status", ["ref('orders')"]),
        ("number of completed orders", ["ref('orders')"]),
        ("total orders amount by customer city", ["ref('orders')", "ref('customers')"]),
        ("customers first name and city", ["ref('customers')"]),
        ("number of payments per payment method", ["ref('stg_payments')"]),
    ],
)
def test_requests_read_the_most_downstream_layer_not_an_ambiguity(host: Path, request_: str, reads: list[str]):
    (host / "models" / "_jaffle__sources.yml").write_text(SOURCES_OVER_EVERYTHING)
    result = _cli(host, "model", request_, "--dry-run")
    assert result.exit_code == 0, result.output
    read_line = next(line for line in result.output.splitlines() if line.strip().startswith("reads:"))
    assert read_line.strip() == "reads: " + ", ".join(reads)
    assert "source(" not in result.output.split("-- models/schema.yml")[0]


def test_an_amount_of_two_entities_is_ambiguous_with_wordings_that_pick_each(host: Path):
    """The order's amount (the orders mart) and the payment's (stg_payments) are two entities'
    columns, not two layers of one: the request must say which, and the hint's wordings do."""
    (host / "models" / "_jaffle__sources.yml").write_text(SOURCES_OVER_EVERYTHING)
    result = _cli(host, "model", "total amount by customer city", "--dry-run")
    assert result.exit_code == 2, result.output
    assert "'amount' is ambiguous: it could be orders.amount or stg_payments.amount." in result.output
    assert "Say which one, e.g. 'orders amount' or 'stg_payments amount'." in result.output
    for wording, base in (("orders amount", "ref('orders')"), ("stg_payments amount", "ref('stg_payments')")):
        picked = _cli(host, "model", f"total {wording} by customer city", "--dry-run")
        assert picked.exit_code == 0, picked.output
        assert f"reads: {base}" in picked.output


def test_a_mart_built_on_another_entity_is_no_layer_of_it(host: Path):
    """orders sums stg_payments' amounts, but is a later layer of the order, not of the payment:
    the amount per payment method is the payments' (it used to read orders.amount and refuse
    the join to the payment method as fan-out)."""
    result = _cli(host, "model", "total amount per payment method", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "reads: ref('stg_payments')" in result.output
