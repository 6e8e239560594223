"""Merge data tests into a dbt properties YAML file without touching what the user wrote.

The file is read with ruamel.yaml; the new entries are inserted into its text with the file's
own indentation (`martsmith.inference.yaml_splice`), so every byte of what was there stays as
it was: comments, blank lines, quotes and escapes (`"\u00e9"`), folded and literal blocks, flow
lists, CRLF line ends. (Should a file defeat that, a ruamel round trip is the fallback; the
result is checked to read as the merged data either way.) Rules:

- A test that is already there is not added again. Same test name + same column + same
  arguments is the same test, in any spelling dbt accepts: `- unique`, `- unique: {config}`,
  old-style keyword arguments beside `config:` or new-style under `arguments:`, under
  `tests:` or `data_tests:`. Lists of values compare as sets.
- New entries use `data_tests:` with `arguments:` (dbt >= 1.10), except where the entry already
  has a `tests:` list (dbt refuses both keys on one entry, so they join that list), and where
  the file (or, for a new file, the project: `tests_key`) writes `tests:` everywhere.
- Source tables: `sources: - name: <source> tables: - name: <table> columns:`; the source must
  be declared in the file, a missing table entry is added. Models: `models: - name: columns:`;
  the entry (and the file) is created when missing.
- A file that is not valid YAML raises `YamlMergeError` with the file and line; nothing is
  written by this module at all: it returns the new text.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "orders.yml"
>>> _ = p.write_text("models:\\n  - name: orders  # keep me\\n")
>>> print(merge_tests(p, "model", "orders", None, [TestSpec(name="unique", column="id")]), end="")
models:
  - name: orders  # keep me
    columns:
      - name: id
        data_tests:
          - unique
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, Literal

from martsmith.context.conventions import count_test_lists
from martsmith.errors import YamlMergeError, filesystem_error
from martsmith.inference.yaml_splice import Edits, splice
from martsmith.render.properties import render_test
from martsmith.spec import TestSpec

# Keys of a test entry that configure it rather than say what it tests.
CONFIG_KEYS = {
    "arguments",
    "config",
    "name",
    "description",
    "tags",
    "meta",
    "severity",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "store_failures",
    "store_failures_as",
    "enabled",
    "column_name",
    "test_name",
    "fail_calc",
    "alias",
    "database",
    "schema",
}
UNORDERED_ARGUMENTS = {"values", "combination_of_columns"}
FLOW_LIST_MAX = 12  # short scalar lists are written inline: values: [a, b, c]


def _yaml(indent: int = 4, offset: int = 2):
    from ruamel.yaml import YAML

    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap the user's long lines
    y.indent(mapping=2, sequence=max(indent, offset + 2), offset=offset)
    return y


def _plain(value: Any) -> Any:
    """ruamel's commented containers and scalars -> plain Python, for comparison."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _canonical_args(args: dict) -> tuple:
    out = []
    for k, v in sorted(_plain(args).items()):
        if k in UNORDERED_ARGUMENTS and isinstance(v, list):
            v = sorted(v, key=repr)
        out.append((k, repr(v)))
    return tuple(out)


def entry_identity(entry: Any, column: str | None) -> tuple | None:
    """(name, column, arguments) of a test entry as written in YAML, in any dbt spelling."""
    if isinstance(entry, str):
        return (entry, column, ())
    if not isinstance(entry, dict) or not entry:
        return None
    if "test_name" in entry:
        name, body = entry["test_name"], entry
    elif len(entry) == 1:
        name, body = next(iter(entry.items()))
    else:  # `- name: custom_name` + one test key is also seen in the wild
        keys = [k for k in entry if k not in CONFIG_KEYS]
        if len(keys) != 1:
            return None
        name, body = keys[0], entry[keys[0]]
    body = body if isinstance(body, dict) else {}
    args = dict(body.get("arguments") or {})
    args.update({k: v for k, v in body.items() if k not in CONFIG_KEYS})
    col = body.get("column_name", column)
    return (str(name), col, _canonical_args(args))


def spec_identity(test: TestSpec) -> tuple:
    return (test.name, test.column, _canonical_args(test.arguments))


def _to_yaml_node(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _to_yaml_node(v)
        return m
    if isinstance(value, list):
        s = CommentedSeq(_to_yaml_node(v) for v in value)
        if value and len(value) <= FLOW_LIST_MAX and all(isinstance(v, (str, int, float, bool)) for v in value):
            s.fa.set_flow_style()
        return s
    if isinstance(value, str) and _yaml11_would_retype(value):
        # ruamel writes YAML 1.2, where `yes` is a string; dbt reads YAML 1.1, where it is true.
        from ruamel.yaml.scalarstring import SingleQuotedScalarString

        return SingleQuotedScalarString(value)
    return value


def _yaml11_would_retype(text: str) -> bool:
    """True when PyYAML (YAML 1.1, what dbt reads with) would not read `text` as a string."""
    import yaml as pyyaml

    tag = pyyaml.resolver.Resolver().resolve(pyyaml.ScalarNode, text, (True, False))
    return tag != "tag:yaml.org,2002:str"


def _line_of(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None else None


def _find(items: Any, name: str, path: Path, what: str) -> dict | None:
    if items is None:
        return None
    if not isinstance(items, list):
        raise YamlMergeError(path, f"{what} should be a list", _line_of(items))
    for item in items:
        if isinstance(item, dict) and str(item.get("name", "")).lower() == name.lower():
            return item
    return None


def _test_list(entry: dict, path: Path, edits: Edits, new_key: str = "data_tests") -> list:
    """The entry's list of tests: its `tests:` (old style) or `data_tests:` if it has one, else
    a new `new_key:` list (the key the rest of the file uses)."""
    if "tests" in entry or "data_tests" in entry:
        key = "tests" if "tests" in entry and "data_tests" not in entry else "data_tests"
    else:
        key = new_key
    if entry.get(key) is None:
        edits.put(entry, key, _to_yaml_node([]))
    tests = entry[key]
    if not isinstance(tests, list):
        raise YamlMergeError(path, f"'{key}' of {entry.get('name')} should be a list", _line_of(entry))
    return tests


def _existing(entry: dict, column: str | None) -> set[tuple]:
    out = set()
    for key in ("tests", "data_tests"):
        for item in entry.get(key) or []:
            ident = entry_identity(item, column)
            if ident is not None:
                out.add(ident)
    return out


def _load(path: Path, text: str):
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, indent, offset = load_yaml_guess_indent(text) if text.strip() else (None, 4, 2)
        y = _yaml(indent or 4, offset if offset is not None else 2)
        data = y.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlMergeError(
            path, f"not valid YAML: {exc.problem or exc.context}", mark.line + 1 if mark else None
        ) from exc
    except YAMLError as exc:
        raise YamlMergeError(path, f"not valid YAML: {exc}") from exc
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
        data["version"] = 2
    if not isinstance(data, dict):
        raise YamlMergeError(path, "should hold a YAML mapping (version: 2, models:/sources: ...)", 1)
    return y, data


def read_properties(path: Path) -> str | None:
    """The text of a properties file as it is on disk (line ends included), None when there is
    none; a file that can't be read is one readable error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise filesystem_error(exc, writing=False, path=path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlMergeError(path, f"is not UTF-8 text (byte {exc.start})") from None


def merge_into(
    yml_path: Path,
    node_kind: Literal["source", "model"],
    node_name: str,
    source_name: str | None,
    tests: list[TestSpec],
    *,
    text: str | None = None,
    tests_key: str = "data_tests",
) -> tuple[str, list[TestSpec]]:
    """Like `merge_tests`, also returning the tests that were actually added (not duplicates).
    `text` is the file's current content when already in hand (several nodes, one file)."""
    path = Path(yml_path)
    if text is None:
        text = read_properties(path) or ""
    y, data = _load(path, text)
    edits = Edits(data)
    new_key = file_tests_key(data) or tests_key
    if node_kind == "source":
        source = _find(data.get("sources"), source_name or "", path, "sources")
        if source is None:
            raise YamlMergeError(path, f"declares no source '{source_name}'")
        if source.get("tables") is None:
            edits.put(source, "tables", _to_yaml_node([]))
        node = _find(source["tables"], node_name, path, f"tables of source {source_name}")
        if node is None:
            node = _to_yaml_node({"name": node_name})
            edits.append(source["tables"], node)
    else:
        if data.get("models") is None:
            if "version" not in data:
                edits.put_first(data, "version", 2)
            edits.put(data, "models", _to_yaml_node([]))
        node = _find(data["models"], node_name, path, "models")
        if node is None:
            node = _to_yaml_node({"name": node_name})
            edits.append(data["models"], node)
    if not isinstance(node, dict):
        raise YamlMergeError(path, f"the entry of {node_name} should be a mapping", _line_of(node))

    added: list[TestSpec] = []
    node_seen = _existing(node, None)
    for test in tests:
        if test.column is None:
            if spec_identity(test) in node_seen:
                continue
            edits.append(_test_list(node, path, edits, new_key), _to_yaml_node(render_test(test)))
            node_seen.add(spec_identity(test))
            added.append(test)
            continue
        if node.get("columns") is None:
            edits.put(node, "columns", _to_yaml_node([]))
        col = _find(node["columns"], test.column, path, f"columns of {node_name}")
        if col is None:
            col = _to_yaml_node({"name": test.column})
            edits.append(node["columns"], col)
        ident = spec_identity(test)
        have = _existing(col, test.column) | {i for i in node_seen if i[1] == test.column}
        if (ident[0], str(col.get("name")), ident[2]) in have or ident in have:
            continue
        edits.append(_test_list(col, path, edits, new_key), _to_yaml_node(render_test(test)))
        added.append(test)
    if not added:
        return text, []
    return _new_text(path, text, y, data, edits), added


def _new_text(path: Path, text: str, y, data, edits: Edits) -> str:
    """The original text with the edits spliced in; a ruamel round trip if splicing cannot
    place them or gives a text that does not read as the merged data (then it says so)."""
    import yaml as pyyaml

    out = io.StringIO()
    y.dump(data, out)
    dumped = out.getvalue()
    try:
        expected = pyyaml.safe_load(dumped)
    except pyyaml.YAMLError as exc:  # pragma: no cover - ruamel wrote what PyYAML can't read
        raise YamlMergeError(path, f"merging produced YAML that dbt could not read: {exc}") from None
    try:
        spliced = splice(text, data, edits)
        if spliced is not None and pyyaml.safe_load(spliced) == expected:
            return spliced
    except Exception:  # noqa: BLE001 - any failure of the careful way: the plain round trip
        logging.getLogger(__name__).debug("splicing into %s failed", path, exc_info=True)
    logging.getLogger(__name__).info("%s: rewrote the file with a YAML round trip (splicing failed)", path)
    return dumped


def merge_tests(
    yml_path: Path,
    node_kind: Literal["source", "model"],
    node_name: str,
    source_name: str | None,
    tests: list[TestSpec],
    *,
    text: str | None = None,
    tests_key: str = "data_tests",
) -> str:
    """The new text of `yml_path` with `tests` merged in (the file is not written); the
    original text, byte for byte, when every test is already there."""
    return merge_into(yml_path, node_kind, node_name, source_name, tests, text=text, tests_key=tests_key)[0]


def file_tests_key(data: Any) -> str | None:
    """`tests` or `data_tests`: the key a properties file writes its tests under (the one it
    uses more often), None when it has no tests.

    >>> file_tests_key({"models": [{"name": "m", "columns": [{"name": "id", "tests": ["unique"]}]}]})
    'tests'
    """
    old, new = count_test_lists(data)
    if not old and not new:
        return None
    return "tests" if old > new else "data_tests"


def with_tests_key(data: Any, key: str) -> Any:
    """`data` (rendered properties) with its test lists under `key` (`tests` or `data_tests`).

    >>> with_tests_key({"models": [{"name": "m", "data_tests": ["martsmith.not_empty"]}]}, "tests")
    {'models': [{'name': 'm', 'tests': ['martsmith.not_empty']}]}
    """
    if isinstance(data, dict):
        other = "data_tests" if key == "tests" else "tests"
        return {
            (key if k == other else k): (v if k == "unit_tests" else with_tests_key(v, key)) for k, v in data.items()
        }
    if isinstance(data, list):
        return [with_tests_key(v, key) for v in data]
    return data


def _to_block_node(value: Any) -> Any:
    """Plain data -> ruamel nodes in block style, as render_properties lays a new file out."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _to_block_node(v)
        return m
    if isinstance(value, list):
        return CommentedSeq(_to_block_node(v) for v in value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    if isinstance(value, str) and _yaml11_would_retype(value):
        return SingleQuotedScalarString(value)
    return value


def place_properties(yml_path: Path, rendered: str, *, tests_key: str = "data_tests", text: str | None = None) -> str:
    """The text to write at `yml_path` for a model's rendered properties (a whole document as
    render_properties writes it), its tests under the project's key. A file of its own (new, or
    documenting only this model) is the rendered document; a file shared with other models (one
    `schema.yml` per folder) gets the model's entry appended, or put in place of its old entry,
    and every other byte stays."""
    import yaml as pyyaml

    from martsmith.render.properties import dump_yaml  # the writer of every rendered file

    new = pyyaml.safe_load(rendered)
    names = {str(m.get("name")) for m in new.get("models") or []}
    path = Path(yml_path)
    if text is None:
        text = read_properties(path)
    if text and text.strip():
        y, data = _load(path, text)
        models = data.get("models")
        others = [m for m in models or [] if isinstance(m, dict) and str(m.get("name")) not in names]
        shared = bool(others or data.get("sources") or data.get("seeds") or data.get("unit_tests"))
    else:
        shared = False
    if shared:
        tests_key = file_tests_key(data) or tests_key  # the key the rest of the file uses
    if tests_key != "data_tests":
        new = with_tests_key(new, tests_key)
        rendered = dump_yaml(new)
    if not shared or not text:
        return rendered  # a file of its own: written whole
    edits = Edits(data)
    if models is None:
        edits.put(data, "models", _to_yaml_node([]))
        models = data["models"]
    if not isinstance(models, list):
        raise YamlMergeError(path, "models should be a list", _line_of(models))
    for entry in new.get("models") or []:
        node = _to_block_node(entry)
        index = next(
            (i for i, m in enumerate(models) if isinstance(m, dict) and str(m.get("name")) == entry["name"]), None
        )
        if index is None:
            edits.append(models, node)
        else:
            edits.replace(models, index, node)
    return _new_text(path, text, y, data, edits)
