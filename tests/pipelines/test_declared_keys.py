"""Foreign keys declared by relationships tests on sources point the right way, so the commands
that read them (star, the planners) keep working after `martsmith tests` wrote them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context.load import load_context
from martsmith.context.project import load_project

pytestmark = pytest.mark.integration


def test_relationships_on_sources_become_foreign_keys_child_to_parent(sample_project):
    run = lambda *a: CliRunner().invoke(main, [*a, "--project-dir", str(sample_project)], catch_exceptions=False)  # noqa: E731
    wrote = run("tests", "source:shop.order_items", "--yes")
    assert wrote.exit_code == 0, wrote.output
    ctx = load_context(load_project(sample_project), lambda _m: None)
    declared = {
        (f.table, f.column, f.ref_table, f.ref_column) for f in ctx.catalog.foreign_keys if f.origin == "declared"
    }
    assert ("source:shop.order_items", "order_id", "source:shop.orders", "id") in declared
    assert not [f for f in declared if f[0] == "source:shop.orders" and f[1] == "order_id"]
    # The demo's order: tests first, then a star schema over the same source.
    star = run(
        "star",
        "sales star schema: order lines as the fact, with customers, products and dates as dimensions",
        "--dry-run",
    )
    assert star.exit_code == 0, star.output
