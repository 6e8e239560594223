"""In-memory catalogs for planning tests: two different schemas, no warehouse."""

from __future__ import annotations

import datetime

import pytest

from martsmith.context.catalog import Catalog, Column, Table, infer_foreign_keys


def source(
    name: str, cols: dict[str, str], *, src: str, rows: int, unique: bool = True, values: dict | None = None
) -> Table:
    columns = [Column(c, t, values=(values or {}).get(c)) for c, t in cols.items()]
    return Table(
        kind="source",
        name=name,
        schema="raw",
        identifier=name,
        source_name=src,
        columns=columns,
        row_count=rows,
        primary_key="id",
        primary_key_unique=unique,
    )


def catalog(*tables: Table) -> Catalog:
    return Catalog(tables=list(tables), foreign_keys=infer_foreign_keys(list(tables), []))


@pytest.fixture
def shop() -> Catalog:
    return catalog(
        source(
            "customers",
            {
                "id": "INTEGER",
                "first_name": "VARCHAR",
                "country": "VARCHAR",
                "created_at": "TIMESTAMP",
                "updated_at": "TIMESTAMP",
            },
            src="shop",
            rows=300,
            unique=False,
            values={"country": ["France", "france ", "Spain"]},
        ),
        source(
            "products",
            {"id": "INTEGER", "name": "VARCHAR", "category": "VARCHAR", "price": "DECIMAL(10,2)"},
            src="shop",
            rows=27,
            values={"category": ["Toys", "toys", "Books"]},
        ),
        source(
            "orders",
            {
                "id": "INTEGER",
                "customer_id": "INTEGER",
                "status": "VARCHAR",
                "ordered_at": "TIMESTAMP",
                "shipped_at": "TIMESTAMP",
                "amount": "DECIMAL(12,2)",
                "updated_at": "TIMESTAMP",
            },
            src="shop",
            rows=1000,
            unique=False,
            values={"status": ["placed", "Shipped"]},
        ),
        source(
            "order_items",
            {
                "id": "INTEGER",
                "order_id": "INTEGER",
                "product_id": "INTEGER",
                "quantity": "INTEGER",
                "unit_price": "DECIMAL(10,2)",
                "discount": "DECIMAL(4,2)",
            },
            src="shop",
            rows=3000,
        ),
    )


@pytest.fixture
def billing() -> Catalog:
    return catalog(
        source(
            "accounts",
            {"id": "BIGINT", "account_name": "VARCHAR", "segment": "VARCHAR", "signed_up_on": "DATE"},
            src="billing",
            rows=50,
            values={"segment": ["smb", "enterprise"]},
        ),
        source("plans", {"id": "BIGINT", "plan_name": "VARCHAR", "monthly_price": "DOUBLE"}, src="billing", rows=4),
        source(
            "subscriptions",
            {
                "id": "BIGINT",
                "account_id": "BIGINT",
                "plan_id": "BIGINT",
                "started_on": "DATE",
                "seats": "INTEGER",
                "mrr": "DOUBLE",
            },
            src="billing",
            rows=400,
        ),
    )


class FakeProbe:
    """Answers like a warehouse would, from fixed numbers. Measure tests go through the real
    inference rules on a made-up profile (1,000 rows, min from `minimums`, max 100) and "fail"
    in the data exactly when the minimum is negative."""

    def __init__(self, duplicates=None, minimums=None, containment=1.0):
        self._duplicates = duplicates or []
        self._minimums = minimums or {}
        self._containment = containment

    def containment(self, table, column, ref, ref_column):
        return self._containment

    def duplicates(self, table, columns, limit=3):
        return self._duplicates

    def numeric_text(self, table, column):
        return False

    def date_range(self, columns):
        return datetime.date(2024, 3, 1), datetime.date(2025, 6, 30)

    def measure_checks(self, staging, table, columns):
        from martsmith.inference import infer_tests
        from martsmith.inference.check import CheckResult
        from martsmith.profiling.types import ColumnProfile, TableProfile

        rows = 1000
        cols = [ColumnProfile(staging.key, "integer", "number", 0, rows)]
        for c in columns:
            low = self._minimums.get(c, 0)
            cols.append(ColumnProfile(c, "double", "number", 0, 500, min=low, max=100, negative_count=int(low < 0)))
        profile = TableProfile(label=staging.name, relation="staged", row_count=rows, columns=cols)
        staged = Table(
            kind="model",
            name=table.name,
            schema="main",
            identifier="staged",
            primary_key=staging.key,
            columns=[Column(c.name, c.data_type) for c in cols],
        )
        out = []
        for t in infer_tests(staged, profile, Catalog(tables=[staged]), {}):
            if t.column in columns and t.name in ("martsmith.not_negative", "martsmith.accepted_range"):
                failing = self._minimums.get(t.column, 0) < 0 and t.name == "martsmith.not_negative"
                out.append(
                    CheckResult(
                        t,
                        failures=int(failing),
                        examples=[17] if failing else [],
                        message=f"1 {table.name} row has a negative {t.column} ({staging.key}s: 17)" if failing else "",
                    )
                )
        return out
