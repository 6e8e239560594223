"""The unit test's YAML: its shape, values dbt can parse back, and a merge that keeps the file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import yaml

from martsmith.unittests import merge_unit_test, render_value, unit_test_entry


def _entry(name="m__real_rows"):
    return unit_test_entry(
        name,
        "m",
        [
            (
                "source('shop', 'orders')",
                [
                    {
                        "id": 1,
                        "at": dt.datetime(2025, 1, 2, 3, 4, 5),
                        "amount": Decimal("2.50"),
                        "status": "yes",
                        "note": None,
                    }
                ],
            ),
            ("ref('stg_customers')", []),
        ],
        [{"id": 1, "day": dt.date(2025, 1, 2), "amount": Decimal("2.5"), "ok": True}],
        description="d",
        meta={"covers": ["a"]},
    )


def test_values_render_as_dbt_fixture_values():
    assert render_value(Decimal("12.30")) == 12.3
    assert render_value(Decimal("12.00")) == 12
    assert render_value(Decimal("0.1000000000000000000001")) == "0.1000000000000000000001"
    assert render_value(dt.datetime(2025, 1, 2, 3, 4, 5, 6)) == "2025-01-02 03:04:05.000006"
    assert render_value(dt.date(2025, 1, 2)) == "2025-01-02"
    assert render_value(True) is True and render_value(None) is None


def test_new_file_has_the_dbt_unit_test_shape(tmp_path):
    text = merge_unit_test(tmp_path / "m.yml", _entry())
    data = yaml.safe_load(text)  # what dbt reads (YAML 1.1)
    assert data["version"] == 2
    [test] = data["unit_tests"]
    assert list(test) == ["name", "description", "model", "config", "given", "expect"]
    assert test["model"] == "m"
    assert test["config"] == {"meta": {"martsmith": {"covers": ["a"]}}}
    assert test["given"] == [
        {
            "input": "source('shop', 'orders')",
            "rows": [{"id": 1, "at": "2025-01-02 03:04:05", "amount": 2.5, "status": "yes", "note": None}],
        },
        {"input": "ref('stg_customers')", "rows": []},
    ]
    assert test["expect"] == {"rows": [{"id": 1, "day": "2025-01-02", "amount": 2.5, "ok": True}]}
    # one fixture row per line
    assert "- {id: 1, at: '2025-01-02 03:04:05', amount: 2.5, status: 'yes', note: null}" in text


def test_merge_keeps_what_the_user_wrote_and_replaces_only_our_test(tmp_path):
    path = tmp_path / "m.yml"
    original = (
        "version: 2\n"
        "# the model\n"
        "models:\n"
        "  - name: m\n"
        '    description: "One row per order."  # grain\n'
        "unit_tests:\n"
        "  - name: hand_written\n"
        "    model: m\n"
        "    given: []\n"
        "    expect:\n"
        "      rows:\n"
        "        - {id: 1, name: 'a'}\n"
    )
    path.write_text(original)
    once = merge_unit_test(path, _entry())
    path.write_text(once)
    twice = merge_unit_test(path, _entry())
    assert once == twice  # re-running replaces, never duplicates
    assert once.startswith(original)  # the user's text is untouched, byte for byte
    data = yaml.safe_load(once)
    assert [t["name"] for t in data["unit_tests"]] == ["hand_written", "m__real_rows"]
