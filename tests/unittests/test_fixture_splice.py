"""Writing a unit test into a properties file changes only the lines of that test."""

from __future__ import annotations

import datetime as dt
import difflib

import yaml

from martsmith.unittests import merge_unit_test, unit_test_entry

STYLED = """\
version: 2
models:
    - name: m
      description: >
          One row per order,
          folded by hand.
      columns:
          - name: id
            description: "Caf\\u00e9 key"   # escaped on purpose
unit_tests:
    - name: m__real_rows   # ours, from an earlier run
      model: m
      given: []
      expect:
          rows: []

    - name: hand_written
      model: m
      given: []
      expect: {rows: [{id: 1}]}
"""


def entry(amount: int):
    return unit_test_entry(
        "m__real_rows",
        "m",
        [("source('shop', 'orders')", [{"id": 1, "amount": amount}])],
        [{"id": 1, "amount": amount}],
        description="d",
    )


def changed(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    return [
        (tag, a[i1:i2], b[j1:j2])
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
        if tag != "equal"
    ]


def test_replacing_our_test_touches_only_its_lines(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text(STYLED)
    out = merge_unit_test(path, entry(5))
    old = (
        "    - name: m__real_rows   # ours, from an earlier run\n      model: m\n      given: []\n"
        "      expect:\n          rows: []\n"
    )
    start, end = out.index("    - name: m__real_rows\n"), out.index("\n    - name: hand_written")
    assert out[:start] + old + out[end:] == STYLED  # the old test's lines are all that changed
    assert all(line.startswith("      ") for line in out[start:end].splitlines()[1:])
    assert '"Caf\\u00e9 key"   # escaped on purpose' in out and "folded by hand.\n" in out
    tests = yaml.safe_load(out)["unit_tests"]
    assert [t["name"] for t in tests] == ["m__real_rows", "hand_written"]
    assert tests[0]["given"] == [{"input": "source('shop', 'orders')", "rows": [{"id": 1, "amount": 5}]}]


def test_a_new_test_is_appended_and_crlf_kept(tmp_path):
    path = tmp_path / "m.yml"
    crlf = STYLED.replace("m__real_rows   # ours, from an earlier run", "other").replace("\n", "\r\n")
    path.write_bytes(crlf.encode())
    out = merge_unit_test(path, entry(5))
    [(tag, old, new)] = changed(crlf, out)
    assert tag == "insert" and all(line.endswith("\r\n") for line in new)
    assert out.startswith(crlf)
    assert [t["name"] for t in yaml.safe_load(out)["unit_tests"]] == ["other", "hand_written", "m__real_rows"]


def test_a_file_without_unit_tests_gets_the_key(tmp_path):
    path = tmp_path / "m.yml"
    head = STYLED.split("unit_tests:")[0]
    path.write_text(head)
    out = merge_unit_test(path, unit_test_entry("t", "m", [], [{"at": dt.date(2025, 1, 2)}], description="d"))
    assert out.startswith(head) and out[len(head) :].startswith("unit_tests:\n    - name: t\n")
