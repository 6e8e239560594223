"""Merging tests into YAML: comments and order survive, no duplicates, new dbt syntax."""

from __future__ import annotations

import pytest
import yaml

from martsmith.errors import ProjectError
from martsmith.inference.merge import YamlMergeError, merge_tests
from martsmith.spec import TestSpec

SOURCES = """\
version: 2

# Raw shop data, loaded nightly.
sources:
  - name: shop
    schema: raw  # the loader's schema
    tables:
      - name: orders
        description: "One row per order."
        columns:
          - name: status
            description: 'Order status'   # mixed case upstream
          - name: id
            tests:
              - unique
              - relationships:
                  to: ref('x')
                  field: id
      - name: payments
"""

NEW = [
    TestSpec(name="unique", column="id"),  # old-style `tests:` already has it
    TestSpec(name="not_null", column="id"),
    TestSpec(name="relationships", column="id", arguments={"to": "ref('x')", "field": "id"}),  # old style, same args
    TestSpec(name="accepted_values", column="status", arguments={"values": ["shipped", "placed"]}),
    TestSpec(name="martsmith.not_empty"),
    TestSpec(name="not_null", column="customer_id", severity="warn"),
]


@pytest.fixture
def sources_yml(tmp_path):
    path = tmp_path / "_shop__sources.yml"
    path.write_text(SOURCES)
    return path


def test_merge_keeps_comments_order_and_uses_the_files_tests_key_with_arguments(sources_yml):
    out = merge_tests(sources_yml, "source", "orders", "shop", NEW)
    assert out == SOURCES.replace(
        "            description: 'Order status'   # mixed case upstream\n",
        "            description: 'Order status'   # mixed case upstream\n"
        "            tests:\n"
        "              - accepted_values:\n"
        "                  arguments:\n"
        "                    values: [shipped, placed]\n",
    ).replace(
        "                  field: id\n      - name: payments\n",
        "                  field: id\n"
        "              - not_null\n"
        "          - name: customer_id\n"
        "            tests:\n"
        "              - not_null:\n"
        "                  config:\n"
        "                    severity: warn\n"
        "        tests:\n"
        "          - martsmith.not_empty\n"
        "      - name: payments\n",
    )
    parsed = yaml.safe_load(out)
    assert parsed["sources"][0]["tables"][1] == {"name": "payments"}


def test_second_merge_is_idempotent(sources_yml):
    once = merge_tests(sources_yml, "source", "orders", "shop", NEW)
    sources_yml.write_text(once)
    assert merge_tests(sources_yml, "source", "orders", "shop", NEW) == once
    # the same values in another order are the same test
    again = [TestSpec(name="accepted_values", column="status", arguments={"values": ["placed", "shipped"]})]
    assert merge_tests(sources_yml, "source", "orders", "shop", again) == once


def test_new_style_entries_are_recognised(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text(
        "models:\n- name: m\n  columns:\n  - name: a\n    data_tests:\n    - accepted_values:\n"
        "        arguments:\n          values: [x, y]\n        config:\n          severity: warn\n"
    )
    text = path.read_text()
    spec = TestSpec(name="accepted_values", column="a", arguments={"values": ["y", "x"]})
    assert merge_tests(path, "model", "m", None, [spec]) == text
    # and this file's own indentation (lists not indented) is kept
    out = merge_tests(path, "model", "m", None, [TestSpec(name="unique", column="a")])
    assert out.startswith(text) and out.endswith("    - unique\n")


def test_model_entry_and_file_are_created(tmp_path):
    path = tmp_path / "stg_orders.yml"
    out = merge_tests(path, "model", "stg_orders", None, [TestSpec(name="unique", column="order_id")])
    assert yaml.safe_load(out) == {
        "version": 2,
        "models": [{"name": "stg_orders", "columns": [{"name": "order_id", "data_tests": ["unique"]}]}],
    }
    assert not path.exists()  # merge only returns text
    path.write_text("version: 2\nmodels:\n  - name: other  # keep\n")
    out = merge_tests(path, "model", "stg_orders", None, [TestSpec(name="martsmith.not_empty")])
    assert (
        out
        == "version: 2\nmodels:\n  - name: other  # keep\n  - name: stg_orders\n    data_tests:\n      - martsmith.not_empty\n"
    )


def test_broken_yaml_reports_file_and_line_and_changes_nothing(sources_yml):
    broken = SOURCES.replace("    schema: raw  # the loader's schema\n", "    schema: [raw\n")
    sources_yml.write_text(broken)
    with pytest.raises(YamlMergeError) as err:
        merge_tests(sources_yml, "source", "orders", "shop", NEW)
    assert isinstance(err.value, ProjectError)
    assert err.value.path == sources_yml and err.value.line is not None
    assert f"{sources_yml}:{err.value.line}" in err.value.message
    assert sources_yml.read_text() == broken


def test_undeclared_source_is_an_error(sources_yml):
    with pytest.raises(YamlMergeError, match="declares no source 'nope'"):
        merge_tests(sources_yml, "source", "orders", "nope", NEW)


def test_a_file_the_splice_cannot_place_falls_back_to_a_round_trip(sources_yml, monkeypatch, caplog):
    import logging

    from martsmith.inference import merge

    spliced = merge_tests(sources_yml, "source", "orders", "shop", NEW)
    monkeypatch.setattr(merge, "splice", lambda text, data, edits: text + "broken: [\n")  # unreadable
    caplog.set_level(logging.INFO, logger="martsmith.inference.merge")
    out = merge_tests(sources_yml, "source", "orders", "shop", NEW)
    assert yaml.safe_load(out) == yaml.safe_load(spliced)  # (this file: the same text, too)
    assert any("round trip" in r.getMessage() for r in caplog.records)


def test_values_dbt_would_read_as_booleans_are_quoted(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("models:\n  - name: m\n")
    values = ["yes", "no", "on", "off", "y", "1", "null", "~", "2025-01-01", "plain"]
    out = merge_tests(
        path, "model", "m", None, [TestSpec(name="accepted_values", column="flag", arguments={"values": values})]
    )
    assert (
        yaml.safe_load(out)["models"][0]["columns"][0]["data_tests"][0]["accepted_values"]["arguments"]["values"]
        == values
    )  # what dbt reads: strings, every one
    assert "plain]" in out and "'yes'" in out
