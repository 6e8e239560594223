"""`martsmith star` builds on the sample project (one dbt build each, so: few tests), and the
errors that stop it before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import yaml
from click.testing import CliRunner

from martsmith import cli
from tests.star.test_star_command import _tree


def _run(project: Path, *args: str):
    where = ["--project-dir", str(project), "--profiles-dir", str(project)]
    return CliRunner().invoke(cli.main, ["star", *args, *where])


def _results(project: Path) -> dict[str, str]:
    """{node name: status} of the last dbt invocation."""
    data = json.loads((project / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: r["status"] for r in data["results"]}


def _declared_tests(project: Path, files: list[str]) -> list[tuple[str, str, str]]:
    """(model, column, test name) of every data test in the generated YAML files."""
    out = []
    for f in files:
        if not f.endswith(".yml"):
            continue
        for model in yaml.safe_load((project / f).read_text())["models"]:
            for col in model.get("columns", []):
                for t in col.get("data_tests", []):
                    out.append((model["name"], col["name"], t if isinstance(t, str) else next(iter(t))))
    return out


def test_snowflake_builds_the_category_outrigger(sample_project: Path):
    res = _run(sample_project, "order lines as the fact with products", "--snowflake", "--yes")
    assert res.exit_code == 0, res.output
    marts = sample_project / "models" / "marts" / "core"
    assert (marts / "dim_category.sql").is_file()
    props = yaml.safe_load((marts / "dim_product.yml").read_text())["models"][0]
    category_key = next(c for c in props["columns"] if c["name"] == "category_key")
    assert {"relationships": {"arguments": {"to": "ref('dim_category')", "field": "category_key"}}} in category_key[
        "data_tests"
    ]
    results = _results(sample_project)
    assert results["dim_category"] == "success"
    rel = [name for name in results if name.startswith("relationships_dim_product_category_key")]
    assert rel and all(results[n] == "pass" for n in rel)
    with duckdb.connect(str(sample_project / "shop.duckdb")) as con:
        (n,) = con.execute("select count(*) from main.dim_category").fetchone()
    assert n > 1  # the categories plus the unknown member


def test_from_source_builds_the_proposed_layout_with_every_key_tested(sample_project: Path):
    res = _run(sample_project, "--from-source", "shop", "--yes", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["built"] and len(out["models"]) == 10
    assert {"fct_order_items", "fct_payments", "dim_customer", "dim_product", "dim_date"} <= set(out["models"])
    tests = _declared_tests(sample_project, out["files"])
    # Every key: the primary key of each model is unique + not_null; every fact key has a relationships test.
    for model in out["models"]:
        key = next(c for (m, c, t) in tests if m == model and t == "unique")
        assert (model, key, "not_null") in tests, model
    fact_keys = [c["name"] for f in out["spec"]["facts"] for c in f["foreign_keys"]]
    assert len([t for t in tests if t[2] == "relationships" and t[0].startswith("fct_")]) == len(fact_keys)
    # Measures get the tests the data supports; the data's negative quantities are a note, not a test.
    assert ("fct_order_items", "unit_price", "martsmith.not_negative") in tests
    assert ("fct_order_items", "discount", "martsmith.accepted_range") in tests
    assert not any(t[:2] == ("fct_order_items", "quantity") for t in tests)
    assert any(n.startswith("fct_order_items.quantity: 2 order items have a negative quantity") for n in out["notes"])
    # One dbt build ran every one of them, and all passed.
    assert out["tests_passed"] == len(tests) and out["tests_warned"] == 0
    statuses = _results(sample_project)
    assert sum(s == "pass" for s in statuses.values()) == len(tests)


def test_contradicted_grain_and_ambiguous_keys_stop_before_writing(sample_project: Path):
    db = sample_project / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("insert into raw.order_items select * from raw.order_items where id in (5, 9)")
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
    before = _tree(sample_project)

    res = _run(sample_project, "--from-source", "shop", "--yes")
    assert res.exit_code == 2, res.output
    assert "The data contradicts the grain of fct_order_items, one row per order_item," in res.output
    assert "e.g. id 5 (2 rows), id 9 (2 rows)" in res.output
    assert _tree(sample_project) == before

    # A second table for the same entity: orders.customer_id could mean either.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "delete from raw.order_items where rowid in (select max(rowid) from raw.order_items group by id having count(*) > 1)"
        )
        con.execute("create table raw.customer as select * from raw.customers")
        relations.append(("raw", "customer"))
    sources = sample_project / "models" / "staging" / "shop" / "_shop__sources.yml"
    text = sources.read_text()
    sources.write_text(text.replace("    tables:\n", "    tables:\n      - name: customer\n", 1))
    before = _tree(sample_project)
    res = _run(sample_project, "--from-source", "shop", "--yes")
    assert res.exit_code == 2, res.output
    assert "could point at several tables: customer, customers" in res.output
    assert _tree(sample_project) == before
    with duckdb.connect(str(db)) as con:
        after = con.execute("select table_schema, table_name from information_schema.tables order by all").fetchall()
    assert sorted(after) == sorted(relations)  # no relation (nor temp view) left behind
