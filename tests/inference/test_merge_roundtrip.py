"""The merge touches only what it adds: every other byte of the file stays as it was.

Each case merges tests into a file written in some style a round trip would disturb (folded and
literal blocks, escapes, quotes, comments, blank lines, 4-space indentation, flow collections,
CRLF, no final newline, a BOM) and checks that the old text is the new one minus exactly the
inserted lines (or, inside a flow collection, the inserted characters), that nothing fell back
to a full rewrite, and that the result reads as the expected structure.
"""

from __future__ import annotations

import difflib
import logging

import pytest
import yaml

from martsmith.inference.merge import merge_tests, read_properties
from martsmith.spec import TestSpec

TESTS = [
    TestSpec(name="not_null", column="id"),  # joins the existing old-style `tests:` list
    TestSpec(name="accepted_values", column="status", arguments={"values": ["placed", "a, b"]}),
    TestSpec(name="martsmith.not_empty"),
    TestSpec(name="not_null", column="customer_id", severity="warn"),  # a new column entry
]

STYLED = """\
version: 2

# Raw shop data, loaded nightly.
sources:
  - name: shop   # the loader's schema
    description: >
      Raw data of the shop,
      loaded nightly.

    tables:
      - name: orders
        description: |
          One row per order.
            This line is indented further.
        columns:
          - name: id
            description: "Caf\\u00e9 id, \\"quoted\\""
            tests:
              - unique   # from the source system

          - name: status
            description: 'it''s a status'
            # a comment inside the column
            meta: {owner: "data",  tags: [a,b]}
      - name: payments
        description: >-
          folded
          and stripped
"""


@pytest.fixture(autouse=True)
def no_fallback(caplog):
    caplog.set_level(logging.INFO, logger="martsmith.inference.merge")
    yield
    assert not [r for r in caplog.records if "round trip" in r.getMessage()], "the merge rewrote the file"


def inserted_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it changes or removes any."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), f"{tag}: {a[i1:i2]!r} -> {b[j1:j2]!r}"
        if tag == "insert":
            out += b[j1:j2]
    return out


def inserted_chars(before: str, after: str) -> list[str]:
    """The pieces `after` adds to `before`, character by character; fails on any other change."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), f"{tag}: {before[i1:i2]!r} -> {after[j1:j2]!r}"
        if tag == "insert":
            out.append(after[j1:j2])
    return out


def merge(tmp_path, text: str, kind: str = "source", tests=TESTS, name: str = "orders.yml") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    if kind == "source":
        return merge_tests(path, "source", "orders", "shop", tests)
    return merge_tests(path, "model", "orders", None, tests)


def orders_of(parsed: dict) -> dict:
    entries = parsed["sources"][0]["tables"] if "sources" in parsed else parsed["models"]
    return next(e for e in entries if e["name"] == "orders")


def _tests(entry: dict) -> list:
    return entry.get("tests", entry.get("data_tests"))


def assert_merged(parsed: dict) -> None:
    orders = orders_of(parsed)
    cols = {c["name"]: c for c in orders["columns"]}
    assert _tests(cols["id"])[-1] == "not_null"
    assert _tests(cols["status"])[-1] == {"accepted_values": {"arguments": {"values": ["placed", "a, b"]}}}
    assert _tests(cols["customer_id"]) == [{"not_null": {"config": {"severity": "warn"}}}]
    assert _tests(orders) == ["martsmith.not_empty"]


def test_styled_file_keeps_every_byte(tmp_path):
    out = merge(tmp_path, STYLED)
    # the file writes `tests:`: so do the new entries (not a mix of both keys)
    assert inserted_lines(STYLED, out) == [
        "              - not_null\n",
        "            tests:\n",
        "              - accepted_values:\n",
        "                  arguments:\n",
        "                    values: [placed, 'a, b']\n",
        "\n",  # the file leaves a blank line between its columns: so does the new one
        "          - name: customer_id\n",
        "            tests:\n",
        "              - not_null:\n",
        "                  config:\n",
        "                    severity: warn\n",
        "        tests:\n",
        "          - martsmith.not_empty\n",
    ]
    # the escape, the quotes, the blocks and the comments are the original bytes
    for kept in [
        '"Caf\\u00e9 id, \\"quoted\\""',
        "'it''s a status'",
        "    description: >\n      Raw data",
        "            This line is indented further.\n",
        '{owner: "data",  tags: [a,b]}',
        "- unique   # from the source system\n",
        "        description: >-\n          folded\n",
    ]:
        assert kept in out
    # the new test joins the old `tests:` list, right after its last item (not after the blank line)
    assert "- unique   # from the source system\n              - not_null\n\n          - name: status" in out
    parsed = yaml.safe_load(out)
    assert_merged(parsed)
    assert parsed["sources"][0]["description"] == "Raw data of the shop, loaded nightly.\n"
    assert orders_of(parsed)["columns"][0]["description"] == 'Café id, "quoted"'
    assert parsed["sources"][0]["tables"][1] == {"name": "payments", "description": "folded and stripped"}


def test_a_round_trip_would_have_changed_it(tmp_path):
    # What this guards against: ruamel alone rewrites the escape (and more).
    import io

    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    data = y.load(STYLED)
    data["sources"][0]["tables"][0]["columns"][0]["tests"].append("not_null")
    buf = io.StringIO()
    y.dump(data, buf)
    assert buf.getvalue() != STYLED.replace(
        "- unique   # from the source system\n", "- unique   # from the source system\n  - not_null\n"
    )
    assert "\\u00e9" not in buf.getvalue()


def test_second_merge_changes_nothing(tmp_path):
    once = merge(tmp_path, STYLED)
    assert merge(tmp_path, once) == once


def test_crlf_line_ends_are_kept(tmp_path):
    crlf = STYLED.replace("\n", "\r\n")
    out = merge(tmp_path, crlf)
    assert out.count("\r\n") == out.count("\n")  # every line end is still CRLF
    assert inserted_lines(crlf, out) == [
        line.replace("\n", "\r\n") for line in inserted_lines(STYLED, merge(tmp_path, STYLED))
    ]
    assert_merged(yaml.safe_load(out))


def test_read_properties_keeps_crlf_and_bom(tmp_path):
    path = tmp_path / "x.yml"
    path.write_bytes(b"\xef\xbb\xbfmodels:\r\n  - name: orders\r\n")
    assert read_properties(path) == "\ufeffmodels:\r\n  - name: orders\r\n"
    assert read_properties(tmp_path / "missing.yml") is None
    out = merge_tests(path, "model", "orders", None, [TestSpec(name="unique", column="id")])
    assert out.startswith("\ufeffmodels:\r\n  - name: orders\r\n    columns:\r\n")
    assert inserted_lines(read_properties(path), out)


FOUR_SPACES = """\
version: 2
models:
    -   name: orders
        description: >
            One row per order,
            folded.
        columns:
            -   name: id
                description: "\\u00e9"

            -   name: status
"""

NOT_INDENTED = """\
models:
- name: orders  # lists at the key's column
  columns:
  - name: id
    config:
      meta: {a: 1}
  - name: status
"""


@pytest.mark.parametrize(
    "text, dash, key",
    [
        (FOUR_SPACES, "            -   name: customer_id\n", "        data_tests:\n"),
        (NOT_INDENTED, "  - name: customer_id\n", "  data_tests:\n"),
    ],
)
def test_the_files_own_indentation_is_used(tmp_path, text, dash, key):
    out = merge(tmp_path, text, "model")
    added = inserted_lines(text, out)
    assert dash in added and key in added
    assert_merged(yaml.safe_load(out))


FLOW = """\
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique]   # inline
      - {name: status, description: "a \\"flow\\" entry"}
"""


def test_flow_collections_get_the_new_items_inline(tmp_path):
    out = merge(tmp_path, FLOW, "model")
    pieces = inserted_chars(FLOW, out)
    assert ", not_null" in pieces
    assert ", data_tests: [{accepted_values: {arguments: {values: [placed, 'a, b']}}}]" in pieces
    # only the two flow lines changed; the rest is whole new lines
    changed = [line for line in out.splitlines() if line not in FLOW.splitlines()]
    assert "        data_tests: [unique, not_null]   # inline" in changed
    assert_merged(yaml.safe_load(out))


EMPTY_VALUES = """\
models:
  - name: orders
    columns:
      - name: id
        data_tests: ~   # nothing yet
      - name: status
        data_tests:
    data_tests:
"""


def test_empty_values_are_filled(tmp_path):
    out = merge(tmp_path, EMPTY_VALUES, "model")
    # the explicit null goes (the comment stays); everything else is inserted lines
    assert "        data_tests:   # nothing yet\n          - not_null\n" in out
    assert inserted_lines(EMPTY_VALUES.replace("data_tests: ~   #", "data_tests:   #"), out)
    assert_merged(yaml.safe_load(out))


def test_no_final_newline_and_a_new_source_table(tmp_path):
    text = "version: 2\nsources:\n  - name: shop\n    tables:\n      - name: payments"
    out = merge(tmp_path, text)
    assert out.startswith(text + "\n")
    parsed = yaml.safe_load(out)
    assert [t["name"] for t in parsed["sources"][0]["tables"]] == ["payments", "orders"]
    assert_merged(parsed)


def test_a_file_of_comments_gets_the_document_after_them(tmp_path):
    text = "# models of the shop\n# (owned by the data team)\n"
    out = merge(tmp_path, text, "model")
    assert out.startswith(text)
    parsed = yaml.safe_load(out)
    assert parsed["version"] == 2
    assert_merged(parsed)


def test_version_goes_before_the_first_key_after_the_header(tmp_path):
    text = "# header\nsources: []  # none\n"
    out = merge(tmp_path, text, "model", tests=[TestSpec(name="unique", column="id")])
    assert inserted_lines(text, out)[0] == "version: 2\n"
    assert out.startswith("# header\nversion: 2\nsources: []  # none\nmodels:\n")


def test_anchors_and_merge_keys_are_left_alone(tmp_path):
    text = """\
x-defaults: &defaults
  config: {severity: warn}
models:
  - name: orders
    <<: *defaults
    columns:
      - name: id
"""
    out = merge(tmp_path, text, "model", tests=[TestSpec(name="unique", column="id")])
    assert inserted_lines(text, out) == ["        data_tests:\n", "          - unique\n"]
    assert yaml.safe_load(out)["models"][0]["config"] == {"severity": "warn"}


def test_a_mapping_item_joins_an_existing_block_list(tmp_path):
    text = """\
models:
  - name: orders
    columns:
      - name: status
        data_tests:
          -   not_null   # odd spacing after the dash is the list's own
        description: "last key, after the list"
"""
    tests = [TestSpec(name="accepted_values", column="status", arguments={"values": ["placed", "a, b"]})]
    out = merge(tmp_path, text, "model", tests=tests)
    assert inserted_lines(text, out) == [
        "          -   accepted_values:\n",
        "                arguments:\n",
        "                  values: [placed, 'a, b']\n",
    ]
    assert yaml.safe_load(out)["models"][0]["columns"][0]["data_tests"][1] == {
        "accepted_values": {"arguments": {"values": ["placed", "a, b"]}}
    }


SEPARATED = """\
version: 2

models:
  - name: orders
    columns:
      - name: id
        description: >
          The key.

      - name: status
        description: A status.
        {key}:
          - not_null
"""


@pytest.mark.parametrize("key", ["tests", "data_tests"])
def test_new_tests_go_before_the_blank_line_under_the_key_the_file_uses(tmp_path, key):
    """A folded description's blank lines separate the column from the next one: what is added
    to the column goes before them, under the key the rest of the file writes."""
    text = SEPARATED.format(key=key)
    out = merge(tmp_path, text, kind="model", tests=[TestSpec(name="unique", column="id")])
    assert inserted_lines(text, out) == [f"        {key}:\n", "          - unique\n"]
    assert "          The key.\n        " + key + ":\n          - unique\n\n      - name: status" in out


def test_a_file_without_tests_takes_the_projects_key(tmp_path):
    path = tmp_path / "schema.yml"
    path.write_text("version: 2\nmodels:\n  - name: orders\n")
    tests = [TestSpec(name="unique", column="id")]
    assert "        tests:\n" in merge_tests(path, "model", "orders", None, tests, tests_key="tests")
    assert "        data_tests:\n" in merge_tests(path, "model", "orders", None, tests)


def test_a_kept_block_scalar_keeps_its_blank_lines(tmp_path):
    """With `|+` the blank lines are part of the description: new keys go after them."""
    text = "models:\n  - name: orders\n    description: |+\n      Kept.\n\n    columns:\n      - name: id\n"
    out = merge(tmp_path, text, kind="model", tests=[TestSpec(name="martsmith.not_empty")])
    assert yaml.safe_load(out)["models"][0]["description"] == "Kept.\n\n"
