"""A value the counted table holds and a fact table copies: after `star`, the fact of order lines
carries `order_status` beside the staged orders' `status`, and 'number of orders per status,
excluding cancelled orders' (the request `make demo` regenerates) must still read the orders'
own column — it was refused as ambiguous, and before that read the order lines."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from martsmith.cli import main

pytestmark = pytest.mark.integration


def test_a_value_the_counted_table_holds_is_read_there_not_in_the_fact_that_copies_it(sample_project):
    star = CliRunner().invoke(main, ["star", "--from-source", "shop", "--yes", "--project-dir", str(sample_project)])
    assert star.exit_code == 0, star.output
    request = "number of orders per status, excluding cancelled and returned orders"
    out = CliRunner().invoke(
        main, ["model", request, "--dry-run", "--format", "json", "--project-dir", str(sample_project)]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    spec = result["spec"]
    assert spec["inputs"][0]["table"] == "stg_shop__orders"
    (f,) = spec["filters"]
    assert (f["input"], f["column"], f["op"], sorted(f["values"])) == (
        spec["inputs"][0]["alias"],
        "status",
        "not in",
        ["cancelled", "returned"],
    )
    assert any("the table the request is about" in n and "fct_order_items.order_status" in n for n in result["notes"])
