"""`declare_source`: the sources YAML written from the warehouse's tables, types and comments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from martsmith.context.project import load_project
from martsmith.errors import UsageError, WriteRefused
from martsmith.scaffold.sample import COLUMN_COMMENTS, SOURCE_DESCRIPTION, TABLE_COMMENTS
from martsmith.scaffold.sources import UnknownSchemaError, declare_source, sources_path


@pytest.fixture
def project(sample_project: Path):
    return load_project(sample_project, sample_project)


def test_the_sample_source_file(sample_project: Path):
    path = sample_project / "models/staging/shop/_shop__sources.yml"
    text = path.read_text()
    assert text.startswith("version: 2\n\nsources:\n  - name: shop\n    schema: raw\n    description: ")
    data = yaml.safe_load(text)
    (source,) = data["sources"]
    assert list(source) == ["name", "schema", "description", "tables"]
    assert source["description"] == SOURCE_DESCRIPTION
    assert [t["name"] for t in source["tables"]] == ["customers", "order_items", "orders", "payments", "products"]
    orders = next(t for t in source["tables"] if t["name"] == "orders")
    assert list(orders) == ["name", "description", "columns"]
    assert orders["description"] == TABLE_COMMENTS["orders"]
    assert [(c["name"], c["data_type"]) for c in orders["columns"]] == [
        ("id", "integer"),
        ("customer_id", "integer"),
        ("status", "varchar"),
        ("ordered_at", "timestamp"),
        ("shipped_at", "timestamp"),
        ("amount", "decimal(12,2)"),
        ("updated_at", "timestamp"),
    ]
    assert list(orders["columns"][0]) == ["name", "data_type", "description"]
    amount = next(c for c in orders["columns"] if c["name"] == "amount")
    assert amount["description"] == "Order total in USD, after discounts."
    for table in source["tables"]:
        for column in table["columns"]:
            assert column["description"] == COLUMN_COMMENTS[table["name"]][column["name"]]


def test_same_schema_same_bytes(project):
    path = sources_path(project, "shop")
    before = path.read_bytes()
    assert declare_source(project, "raw", "shop", force=True, description=SOURCE_DESCRIPTION) == path
    assert path.read_bytes() == before


def test_default_name_is_the_schema_and_tables_can_be_chosen(project):
    (project.root / "models/staging/shop/_shop__sources.yml").unlink()
    path = declare_source(project, "RAW", tables=["orders", "payments"])
    assert path == project.root / "models/staging/raw/_raw__sources.yml"
    (source,) = yaml.safe_load(path.read_text())["sources"]
    assert (source["name"], source["schema"]) == ("raw", "raw")
    assert source["description"] == "Tables of the `raw` schema."
    assert [t["name"] for t in source["tables"]] == ["orders", "payments"]


def test_refuses_to_overwrite_without_force(project):
    path = sources_path(project, "shop")
    path.write_text("# hand-edited\n")
    with pytest.raises(WriteRefused, match="already exists") as info:
        declare_source(project, "raw", "shop")
    assert "--force" in info.value.hint
    assert path.read_text() == "# hand-edited\n"
    declare_source(project, "raw", "shop", force=True)
    assert yaml.safe_load(path.read_text())["sources"][0]["name"] == "shop"


def test_refuses_a_source_declared_in_another_file(project):
    other = project.root / "models/staging/_other.yml"
    other.write_text("version: 2\nsources:\n  - name: stripe\n    tables: [{name: charges}]\n")
    with pytest.raises(WriteRefused, match="already declared in models/staging/_other.yml"):
        declare_source(project, "raw", "stripe")
    assert not sources_path(project, "stripe").exists()
    assert not (project.root / "models/staging/stripe").exists()


def test_unknown_schema_lists_the_schemas(project):
    with pytest.raises(UnknownSchemaError) as info:
        declare_source(project, "rwa", "x")
    assert info.value.schemas == ["main", "raw"]
    assert "no schema 'rwa'" in info.value.message and "Did you mean 'raw'?" in info.value.message
    assert info.value.exit_code == 2
    assert not (project.root / "models/staging/x").exists()


def test_unknown_table_and_empty_schema(project):
    with pytest.raises(UnknownSchemaError, match="no table 'order'.*Did you mean 'orders'"):
        declare_source(project, "raw", "x", tables=["order"])
    with pytest.raises(UnknownSchemaError, match="no tables"):
        declare_source(project, "main", "x")


def test_bad_source_name(project):
    with pytest.raises(UsageError, match="not a valid identifier"):
        declare_source(project, "raw", "../evil")
