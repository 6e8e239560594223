"""The dbt unit test as YAML, and its merge into the model's properties file.

Values are rendered so that dbt's `dict` fixtures parse them back to the same value: dates and
timestamps as ISO strings (quoted, so that YAML 1.1 loaders keep them strings), decimals as
numbers, nulls as `null`. The merge adds the test to `unit_tests:` (or replaces a unit test of
the same name) by splicing its lines into the file's text (`martsmith.inference.yaml_splice`):
every other byte stays as the user wrote it. A ruamel.yaml round trip is the fallback.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from martsmith.errors import ProjectError, ValidationFailed
from martsmith.inference.merge import read_properties
from martsmith.inference.yaml_splice import Edits, splice
from martsmith.render.jinja_safe import data_problem, inert, inert_all
from martsmith.render.properties import dump_yaml


def render_value(value: Any) -> Any:
    """A fixture value dbt casts back to `value`.

    >>> render_value(Decimal("168.00")), render_value(Decimal("18.39")), render_value(None)
    (168, 18.39, None)
    >>> render_value(dt.datetime(2025, 5, 14, 13, 32)), render_value(dt.date(2025, 5, 14))
    ('2025-05-14 13:32:00', '2025-05-14')
    """
    if isinstance(value, str) and data_problem(value):
        # dbt renders fixture rows: such a value would run, not be compared.
        raise ValidationFailed(
            f"A row picked for the unit test has the value {value[:60]!r}, which {data_problem(value)}.",
            hint="Nothing was written. The model's input data holds text dbt would execute; "
            "clean it, or write this unit test by hand with other rows.",
        )
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()} seconds"
    if isinstance(value, uuid.UUID):
        return str(value)
    raise ValidationFailed(
        f"Cannot write a {type(value).__name__} value ({value!r}) into a dbt fixture.",
        hint="Unit tests from real rows support scalar columns only (numbers, text, dates, booleans).",
    )


def render_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: render_value(v) for k, v in r.items()} for r in rows]


def unit_test_entry(
    name: str,
    model: str,
    given: list[tuple[str, list[dict[str, Any]]]],
    expect: list[dict[str, Any]],
    *,
    description: str,
    meta: dict[str, Any] | None = None,
    fixture_columns: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """One item of `unit_tests:`; `given` is [(input, rows)] with input like `ref('x')`.
    `fixture_columns` ({CTE of an input's given rows: its columns}) goes to the test's
    `overrides: vars:`, for martsmith.deduplicate where it reads columns (macros/sql/deduplicate.sql)."""
    entry: dict[str, Any] = {"name": name, "description": inert(description), "model": model}
    if meta:
        entry["config"] = {"meta": {"martsmith": inert_all(meta)}}
    entry["given"] = [{"input": inp, "rows": render_rows(rows)} for inp, rows in given]
    entry["expect"] = {"rows": render_rows(expect)}
    if fixture_columns:
        columns = {cte: [render_value(c) for c in cols] for cte, cols in fixture_columns.items()}
        entry["overrides"] = {"vars": {"martsmith_fixture_columns": columns}}
    return entry


def _yaml11_would_retype(text: str) -> bool:
    """True when a YAML 1.1 loader (PyYAML, which dbt uses) would not read `text` as a string."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return tag != "tag:yaml.org,2002:str"


def _to_ruamel(value: Any, *, flow: bool = False):
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            # A fixture row is one line: `- {id: 1, status: 'done'}`; so is an input's columns.
            m[k] = _to_ruamel(v, flow=flow or k in ("rows", "martsmith_fixture_columns"))
        return m
    if isinstance(value, list):
        seq = CommentedSeq(_to_ruamel(v, flow=flow) for v in value)
        if flow:
            for item in seq:
                if isinstance(item, CommentedMap):
                    item.fa.set_flow_style()
            if not any(isinstance(item, (CommentedMap, CommentedSeq)) for item in seq):
                seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and (_yaml11_would_retype(value) or value == ""):
        return SingleQuotedScalarString(value)
    return value


def _ruamel():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def merge_unit_test(path: Path, entry: dict[str, Any]) -> str:
    """The text of `path` with `entry` in its `unit_tests:` (replacing a test of the same name),
    or a new properties file when `path` does not exist."""
    before = read_properties(path) or ""  # as on disk, CRLF and all
    try:
        y = _ruamel()
    except ImportError:  # pragma: no cover - ruamel.yaml is a dependency
        return _append_without_ruamel(path, before, entry)
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    try:
        data = y.load(before) if before.strip() else None
    except Exception as exc:  # ruamel's errors have no common public base
        raise ProjectError(f"{path} is not valid YAML: {exc}", hint="Fix the file, then try again.") from exc
    if data is None:
        data = CommentedMap([("version", 2)])
    if not isinstance(data, CommentedMap):
        raise ProjectError(f"{path} should hold a YAML mapping.")

    edits = Edits(data)
    tests = data.get("unit_tests")
    if tests is None:
        edits.put(data, "unit_tests", CommentedSeq())
        tests = data["unit_tests"]
    if not isinstance(tests, list):
        raise ProjectError(f"'unit_tests' in {path} should be a list.")
    new = _to_ruamel(entry)
    for i, existing in enumerate(tests):
        if isinstance(existing, dict) and existing.get("name") == entry["name"]:
            edits.replace(tests, i, new)
            break
    else:
        edits.append(tests, new)
    out = io.StringIO()
    y.dump(data, out)
    text = out.getvalue()
    # Only our test changes: spliced into the user's text when that reads the same as the
    # round trip (which re-indents folded blocks, rewrites escapes...), else the round trip.
    try:
        spliced = splice(before, data, edits) if before.strip() else None
        if spliced is not None and yaml.safe_load(spliced) == yaml.safe_load(text):
            text = spliced
    except Exception:  # noqa: BLE001 - the round trip is always there
        pass
    _check(text, before, path)
    return text


def _append_without_ruamel(path: Path, before: str, entry: dict[str, Any]) -> str:  # pragma: no cover

    old = yaml.safe_load(before) if before.strip() else None
    if old and "unit_tests" in old:
        raise ProjectError(
            f"{path} already has unit_tests; merging into it needs ruamel.yaml.", hint="pip install ruamel.yaml"
        )
    block = dump_yaml({"unit_tests": [entry]})
    text = (before.rstrip("\n") + "\n\n" + block) if before.strip() else dump_yaml({"version": 2}) + "\n" + block
    _check(text, before, path)
    return text


def _check(text: str, before: str, path: Path) -> None:
    """The merged text parses, keeps every top-level key of the old one, and only the unit
    tests changed."""
    try:
        new = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # pragma: no cover - a bug in the merge
        raise ValidationFailed(f"Merging the unit test into {path} produced invalid YAML: {exc}") from exc
    old = (yaml.safe_load(before) if before.strip() else {}) or {}
    changed = [key for key, value in old.items() if key != "unit_tests" and new.get(key) != value]
    ours = [t for t in new["unit_tests"] if t not in (old.get("unit_tests") or [])]
    kept = [t for t in old.get("unit_tests") or [] if t not in new["unit_tests"]]
    if changed or len(ours) > 1 or (kept and {t.get("name") for t in kept} != {t.get("name") for t in ours}):
        raise ValidationFailed(  # pragma: no cover - a bug in the merge
            f"Merging the unit test into {path} would change more than that test; nothing written."
        )
