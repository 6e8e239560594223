"""`martsmith profile` on the sample project."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from martsmith.cli import main


def _out(result) -> str:
    return result.output + (getattr(result, "stderr", "") if result.output != getattr(result, "stderr", None) else "")


def test_profile_text_and_json(sample_project: Path):
    runner = CliRunner()
    args = ["profile", "source:shop.order_items", "--project-dir", str(sample_project)]
    text = runner.invoke(main, args)
    assert text.exit_code == 0, _out(text)
    doc_run = runner.invoke(main, args + ["--format", "json"])
    assert doc_run.exit_code == 0, _out(doc_run)
    doc = json.loads(doc_run.stdout)

    con = duckdb.connect(str(sample_project / "shop.duckdb"), read_only=True)
    rows, negatives = con.execute("select count(*), count_if(quantity < 0) from raw.order_items").fetchall()[0]
    con.close()
    assert doc["label"] == "source:shop.order_items" and doc["row_count"] == rows
    assert [c["name"] for c in doc["columns"]] == ["id", "order_id", "product_id", "quantity", "unit_price", "discount"]
    quantity = next(c for c in doc["columns"] if c["name"] == "quantity")
    assert quantity["negative_count"] == negatives > 0
    assert sum(n for _, n in quantity["top_values"]) == rows
    assert ["id"] in doc["key_candidates"]
    assert 1 <= doc["queries"] <= 4

    lines = text.stdout.splitlines()
    assert lines[0].startswith("source:shop.order_items")
    assert lines[1].startswith(f"{rows:,} rows")
    assert lines[3].split() == ["column", "type", "nulls", "distinct", "min", "max", "top", "values"]
    assert lines[5].split()[:4] == ["id", "INTEGER", "0", f"{rows:,}"]
    assert "key candidates: id" in text.stdout


def test_profile_unknown_node(sample_project: Path):
    result = CliRunner().invoke(main, ["profile", "ordrs", "--project-dir", str(sample_project)])
    assert result.exit_code == 2
    assert "Did you mean" in _out(result) and "orders" in _out(result)


def test_profile_help():
    result = CliRunner().invoke(main, ["profile", "--help"])
    assert result.exit_code == 0
    assert "martsmith profile source:shop.orders" in result.output
