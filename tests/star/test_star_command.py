"""`martsmith star` end to end on the sample project: one dbt invocation, every key tested."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from martsmith import cli
from tests.star.test_plan import SALES


def _tree(root: Path) -> dict[str, str]:
    skip = ("target", "logs", "dbt_packages")
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] not in skip
        and p.suffix != ".duckdb"
        and not p.name.endswith(".wal")
    }


def test_star_command(sample_project: Path, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "star", ("martsmith.commands.star", "star", "Generate a star schema."))
    where = ["--project-dir", str(sample_project), "--profiles-dir", str(sample_project)]
    run = lambda *args: CliRunner().invoke(cli.main, ["star", *args, *where])  # noqa: E731
    before = _tree(sample_project)

    bad = run("star schema of flights with airlines and airports as dimensions", "--yes")
    assert bad.exit_code == 2, bad.output
    assert "'flights'" in bad.output and "It has: customers" in bad.output
    assert _tree(sample_project) == before

    proposal = run("--from-source", "shop", "--dry-run")
    assert proposal.exit_code == 0, proposal.output
    assert "order_items: fact fct_order_items" in proposal.output
    assert "orders: header of order_items" in proposal.output
    assert "customers: dimension dim_customer" in proposal.output
    assert "(not written)" in proposal.output
    assert _tree(sample_project) == before

    built = run(SALES, "--yes")
    assert built.exit_code == 0, built.output
    assert "erDiagram" in built.output and "tests: " in built.output
    marts = sample_project / "models" / "marts" / "sales"
    assert sorted(p.name for p in marts.glob("*.sql")) == [
        "dim_customer.sql",
        "dim_date.sql",
        "dim_product.sql",
        "fct_order_items.sql",
    ]
    assert (marts / "_sales__erd.md").read_text().count("}o--||") == 4
    assert (sample_project / "models/staging/shop/stg_shop__order_items.yml").is_file()
    passed = int(built.output.split("tests: ")[1].split(" passed")[0])
    assert passed >= 25  # every key: PKs, FK not_null + relationships, staging keys
    assert "warned" not in built.output.split("tests: ")[1].splitlines()[0]
