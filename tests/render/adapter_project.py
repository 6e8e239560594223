"""A small dbt project that builds every golden case of tests/render/cases on one adapter: the
case models (their golden .sql, as martsmith writes them), the martsmith package installed with
`local:`, and the inputs they read as seeds (the stg_ models as seeds of those names, the `shop`
source on seeds `shop_orders` and `shop_customers`).

The data set is small and has the edge cases the shapes meet (a null key, a customer with two
versions, a month without completed orders, a revenue of 0, a line of 0 units) but no ties
where a shape may keep any one of the tied rows (row_number, a limit): every case has exactly
one right answer, so the rows can be compared across engines.

`build(folder, target)` writes the project, runs `dbt deps`, `dbt seed` and `dbt run`, and returns what
each case compiled to, its rows and its column types.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from martsmith.context.dbt import Dbt
from martsmith.context.project import load_project
from martsmith.context.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases"
PROJECT = "adapters"


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.json"))


def _last_month(day: int) -> str:
    """A timestamp in the month before this one (orders_last_month_by_status filters on it)."""
    first = dt.date.today().replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=day)
    return f"{previous.isoformat()} 09:30:00"


ORDERS = [  # order_id, customer_id, status, ordered_at, amount
    (1, 1, "completed", "2024-01-05 10:00:00", "100.00"),
    (2, 1, "returned", "2024-01-20 10:00:00", "50.00"),
    (3, 2, "completed", "2024-02-03 10:00:00", "0.00"),  # February's revenue is 0
    (4, 2, "returned", "2024-03-10 10:00:00", "30.00"),
    (5, 3, "completed", "2024-03-15 10:00:00", "70.00"),
    (6, 5, "cancelled", "2024-03-20 10:00:00", "20.00"),
    (7, None, "completed", "2024-04-01 10:00:00", "40.00"),  # no customer
    (8, 3, "shipped", "2024-04-11 10:00:00", "25.00"),
    (9, 1, "returned", "2024-04-12 10:00:00", "10.00"),
    (10, 2, "returned", "2024-05-02 10:00:00", "15.00"),  # May: nothing completed
    *[(10 + i, 3, "shipped", f"2024-06-0{i} 10:00:00", f"{i}.25") for i in range(1, 5)],  # 6 orders of 3
]
CUSTOMERS = [  # customer_id, email, country, updated_at
    (1, "ada@old.example", "DE", "2024-01-01"),
    (1, "ada@new.example", "DE", "2024-03-01"),  # a later version of customer 1
    (2, "bo@example", "DE", "2024-01-01"),
    (3, "cy@example", "FR", "2024-01-01"),
    (4, "di@example", "US", "2024-01-01"),  # no orders
    (5, "ed@example", "FR", "2024-01-01"),  # only a cancelled order
    (None, "ghost@example", "US", "2024-01-01"),  # no key
]
PRODUCTS = [  # product_id, name, category, is_active
    (1, "Mug", "kitchen", "true"),
    (2, "Pan", "kitchen", "true"),
    (3, "Pot", "kitchen", "true"),
    (4, "Lamp", "home", "true"),
    (5, "Rug", "home", "true"),
    (6, "Vase", "home", "true"),
    (7, "Bowl", "kitchen", "false"),  # never sold
    (8, "Cup", "kitchen", "true"),  # one line, of an unknown quantity: sold, but how many is null
]
ORDER_ITEMS = [  # order_item_id, order_id, product_id, quantity, unit_price: units 3, 5, 1, 4, 6, 0, null
    (1, 1, 1, 2, "10.00"),
    (2, 1, 2, 2, "25.00"),
    (3, 2, 3, 1, "50.00"),
    (4, 3, 1, 1, "10.00"),
    (5, 4, 2, 3, "25.00"),
    (6, 5, 4, 4, "5.00"),
    (7, 8, 5, 6, "12.50"),
    (8, 9, 6, 0, "30.00"),  # Vase: a line, but nothing sold
    (9, 10, 8, None, "4.00"),  # Cup: null units, which sort last on DuckDB and first (desc) on Postgres
]


def seeds() -> dict[str, tuple[dict[str, str], list[tuple]]]:
    """{seed: ({column: type}, rows)}: the inputs of every case."""
    orders = {"order_id": "integer", "customer_id": "integer", "status": "varchar"}
    orders |= {"ordered_at": "timestamp", "amount": "decimal(10,2)"}
    customers = {"customer_id": "integer", "email": "varchar", "country": "varchar", "updated_at": "date"}
    shop_orders = {"id" if k == "order_id" else k: v for k, v in orders.items()}
    recent = [  # the source's orders of last month (two completed, one returned)
        (21, 3, "completed", _last_month(2), "12.00"),
        (22, 4, "completed", _last_month(15), "8.00"),
        (23, 4, "returned", _last_month(20), "5.00"),
    ]
    return {
        "stg_orders": (orders, ORDERS),
        "stg_customers": (customers | {"city": "varchar"}, [(*c, f"city {c[2]}") for c in CUSTOMERS]),
        "stg_products": (
            {"product_id": "integer", "name": "varchar", "category": "varchar", "is_active": "boolean"},
            PRODUCTS,
        ),
        "stg_order_items": (
            {
                "order_item_id": "integer",
                "order_id": "integer",
                "product_id": "integer",
                "quantity": "integer",
                "unit_price": "decimal(10,2)",
            },
            ORDER_ITEMS,
        ),
        # the saas models of the mixed-grain case: account 2 has no ticket
        "stg_accounts": (
            {"account_key": "integer", "account_name": "varchar"},
            [(i, f"account {i}") for i in range(3)],
        ),
        "stg_invoices": (
            {"invoice_key": "integer", "account_key": "integer", "invoice_total": "decimal(10,2)"},
            [(i, i % 3, f"{10 + i}.50") for i in range(6)],
        ),
        "stg_tickets": ({"ticket_key": "integer", "account_key": "integer"}, [(i, i % 2) for i in range(5)]),
        "shop_orders": (shop_orders, ORDERS + recent),
        "shop_customers": ({"id" if k == "customer_id" else k: v for k, v in customers.items()}, CUSTOMERS),
    }


# A seed's column type as an adapter spells it, where it differs: Spark has no unbounded
# varchar (its text type is `string`).
SEED_TYPES = {"spark": {"varchar": "string"}}


def write_project(root: Path, target: dict) -> None:
    """The project under `root`, on `target` (a dbt profile target)."""
    root.mkdir(parents=True, exist_ok=True)
    data = seeds()
    spelled = SEED_TYPES.get(target["type"], {})
    data = {name: ({c: spelled.get(t, t) for c, t in types.items()}, rows) for name, (types, rows) in data.items()}
    config = {
        "name": PROJECT,
        "version": "1.0.0",
        "config-version": 2,
        "profile": PROJECT,
        "model-paths": ["models"],
        "seed-paths": ["seeds"],
        "models": {PROJECT: {"+materialized": "table"}},
        "seeds": {PROJECT: {name: {"+column_types": types} for name, (types, _) in data.items()}},
    }
    (root / "dbt_project.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO)}]}))
    profile = {PROJECT: {"target": "dev", "outputs": {"dev": target}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    (root / "seeds").mkdir(exist_ok=True)
    for name, (types, rows) in data.items():
        with (root / "seeds" / f"{name}.csv").open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(types)
            out.writerows(["" if v is None else v for v in row] for row in rows)
    models = root / "models"
    models.mkdir(exist_ok=True)
    source = {
        "name": "shop",
        "schema": "{{ target.schema }}",
        "tables": [
            {"name": "orders", "identifier": "shop_orders"},
            {"name": "customers", "identifier": "shop_customers"},
        ],
    }
    (models / "_sources.yml").write_text(yaml.safe_dump({"version": 2, "sources": [source]}, sort_keys=False))
    for case in case_names():
        (models / f"{case}.sql").write_text((CASES / f"{case}.sql").read_text())


def _plain(value: Any) -> Any:
    """A value as both engines' drivers agree on it: numbers as floats to 6 places (a Postgres
    numeric and a DuckDB double of the same value compare equal), dates and times as text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@dataclass
class Built:
    """One adapter's build of every case."""

    adapter: str
    compiled: dict[str, str] = field(default_factory=dict)  # case -> SQL dbt compiled
    rows: dict[str, list[tuple]] = field(default_factory=dict)  # case -> rows, sorted
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # case -> (column, native type)
    failed: dict[str, str] = field(default_factory=dict)  # node -> dbt's message


def _native_columns(wh: Warehouse, schema: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """{(schema, table): [(column, type)]} in the engine's own type names (Warehouse.columns
    would translate them to DuckDB's): information_schema, or Spark's catalog (it has none)."""
    types: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if wh.adapter == "spark":
        for table in sorted(t.name for t in wh.con.catalog.listTables(schema) if not t.isTemporary):
            columns = wh.con.catalog.listColumns(f"`{schema}`.`{table}`")
            types[(schema, table)] = [(c.name, c.dataType) for c in columns]
        return types
    for table, column, data_type in wh.query_native(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [schema],
    ):
        types.setdefault((schema, table), []).append((column, data_type))
    return types


def build(root: Path, target: dict) -> Built:
    """Write the project, seed and run it, and read back every case."""
    write_project(root, target)
    project = load_project(root)
    dbt = Dbt(project)
    dbt.deps()
    # The seeds first: the `shop` source reads two of them, and dbt orders a source's readers
    # after nothing.
    seeded = dbt.invoke(["seed"])
    assert seeded.success, seeded.error
    result = dbt.invoke(["run"])
    built = Built(adapter=project.adapter_type)
    built.failed = {n.name: n.message for n in result.failed()}
    if result.error and not built.failed:
        built.failed["dbt"] = result.error
    compiled = root / "target" / "compiled" / PROJECT / "models"
    schema = project.schema
    with Warehouse(project) as wh:
        types = _native_columns(wh, schema)
        for case in case_names():
            path = compiled / f"{case}.sql"
            if path.exists():
                built.compiled[case] = path.read_text()
            if case in built.failed or (schema, case) not in types:
                continue
            built.columns[case] = types[(schema, case)]
            rows = wh.query_native(f'select * from "{schema}"."{case}"')
            built.rows[case] = sorted((tuple(_plain(v) for v in r) for r in rows), key=repr)
    return built
