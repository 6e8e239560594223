"""`martsmith star` in a project that has its own staging models: the host's `stg_products`
(a `stg_` model selecting from the one source table, its `id` and `name` renamed the way staging
renames them) is reused, not doubled by a `stg_shop__products`; a host staging model that leaves
columns out is not, and the output says why."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from martsmith import cli
from martsmith.context.catalog import Catalog, Column, ForeignKey, Table
from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.star.plan import plan_star
from tests.star.test_plan import SALES

HOST_PRODUCTS = """\
select
    id as product_id,
    name as product_name,
    category,
    price,
    is_active
from {{ source('shop', 'products') }}
"""

# Leaves first_name and the rest out: not a staging model martsmith can read customers from.
HOST_CUSTOMERS = """\
select
    id as customer_id,
    country
from {{ source('shop', 'customers') }}
qualify row_number() over (partition by id order by updated_at desc) = 1
"""


def test_star_reuses_the_hosts_staging_model(sample_project: Path):
    root = sample_project
    (root / "models/staging/stg_products.sql").write_text(HOST_PRODUCTS)
    (root / "models/staging/stg_customers.sql").write_text(HOST_CUSTOMERS)
    res = Dbt(load_project(root)).invoke(["run", "--select", "stg_products", "stg_customers"])
    assert res.success, res.error

    built = CliRunner().invoke(cli.main, ["star", SALES, "--yes", "--project-dir", str(root)])
    assert built.exit_code == 0, built.output
    assert "stg_products: the project's own staging model of products, reused" in built.output
    assert "stg_customers stages customers but has no column for first_name, last_name" in built.output
    staging = sorted(p.name for p in (root / "models/staging/shop").glob("*.sql"))
    assert "stg_shop__products.sql" not in staging
    assert "stg_shop__customers.sql" in staging
    dim = (root / "models/marts/sales/dim_product.sql").read_text()
    assert "ref('stg_products')" in dim and "source(" not in dim
    assert "stg_products.product_name" in dim


def _model(name, cols, pk):
    return Table("model", name, "main", name, columns=[Column(c, t) for c, t in cols], primary_key=pk)


def test_a_foreign_key_to_the_hosts_staging_model_is_followed_to_its_source():
    """order_items.product_id names stg_products' key exactly; the star is planned over the
    source's tables, so the key is followed back to products.id."""
    items = Table(
        "source",
        "order_items",
        "raw",
        "order_items",
        source_name="shop",
        columns=[Column("id", "INTEGER"), Column("product_id", "INTEGER"), Column("quantity", "INTEGER")],
        primary_key="id",
        primary_key_unique=True,
    )
    products = Table(
        "source",
        "products",
        "raw",
        "products",
        source_name="shop",
        columns=[Column("id", "INTEGER"), Column("name", "VARCHAR")],
        primary_key="id",
        primary_key_unique=True,
    )
    stg = _model("stg_products", [("product_id", "INTEGER"), ("product_name", "VARCHAR")], "product_id")
    catalog = Catalog(
        tables=[items, products, stg],
        foreign_keys=[ForeignKey("source:shop.order_items", "product_id", "stg_products", "product_id")],
        ancestors={"stg_products": {"source:shop.products"}},
        staging={"source:shop.products": "stg_products"},
    )
    star = plan_star(catalog, "order items with products")
    assert [d.name for d in star.dimensions] == ["dim_product"]
    assert [(s.name, s.existing) for s in star.staging if s.table == "products"] == [("stg_products", True)]
