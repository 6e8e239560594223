"""Edit a YAML file by inserting text, so that every byte the edit does not concern stays as is.

A ruamel.yaml round trip (load, change, dump) keeps comments and key order, but re-emits the
whole file: folded (`>`) and literal (`|`) blocks are re-indented, `"\\u00e9"` becomes `é`,
spacing inside flow lists changes. Here ruamel only *reads*: the change is made on the loaded
data through `Edits` (which records what was added where), and `splice` turns each record into
text inserted at the right place of the original, with the file's own indentation:

- items appended to an existing list go after its last item, at the column of its dashes (or
  before the `]` of a flow list), after a blank line where the file leaves one between items;
- keys added to an existing mapping go after its last line, at the column of its keys (or
  before the `}` of a flow mapping);
- a key that was there with an empty value (`columns:` or `columns: ~`) gets its value;
- an item replaced in a block list (a unit test written again) is the only text that changes.

`splice` returns None when it cannot place an edit; the caller checks that the spliced text
reads as the changed data and falls back to a plain round trip otherwise.

>>> from ruamel.yaml import YAML
>>> text = 'a: "\\\\u00e9"   # kept\\nlist:\\n    - x\\n'
>>> data = YAML().load(text)
>>> edits = Edits(data)
>>> edits.append(data["list"], "y")
>>> print(splice(text, data, edits), end="")
a: "\\u00e9"   # kept
list:
    - x
    - y
"""

from __future__ import annotations

import bisect
import io
import json
from dataclasses import dataclass
from typing import Any

DEFAULT_STYLE = (2, 4, 2)  # mapping indent, sequence indent, dash offset: dbt's usual layout


class Edits:
    """Changes made to loaded YAML data, remembered against the containers that were in the file."""

    def __init__(self, data: Any) -> None:
        self.originals: set[int] = set()
        self.appends: dict[int, tuple[list, list]] = {}  # id(list in the file) -> (list, new items)
        self.keys: dict[int, tuple[dict, list]] = {}  # id(mapping in the file) -> (mapping, new keys)
        self.fills: list[tuple[dict, Any]] = []  # (mapping in the file, key that was there, empty)
        self.first: list[tuple[dict, Any]] = []  # (mapping in the file, key put before the others)
        self.replaced: list[tuple[list, int]] = []  # (list in the file, index of an item replaced)
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, (dict, list)) and id(node) not in self.originals:
                self.originals.add(id(node))
                stack.extend(node.values() if isinstance(node, dict) else node)

    def append(self, seq: list, item: Any) -> None:
        seq.append(item)
        if id(seq) in self.originals:
            self.appends.setdefault(id(seq), (seq, []))[1].append(item)

    def put(self, mapping: dict, key: Any, value: Any) -> None:
        existed = key in mapping
        mapping[key] = value
        if id(mapping) in self.originals:
            if existed:
                self.fills.append((mapping, key))
            else:
                self.keys.setdefault(id(mapping), (mapping, []))[1].append(key)

    def put_first(self, mapping: Any, key: Any, value: Any) -> None:
        mapping.insert(0, key, value)
        if id(mapping) in self.originals:
            self.first.append((mapping, key))

    def replace(self, seq: list, index: int, item: Any) -> None:
        seq[index] = item
        if id(seq) in self.originals:
            self.replaced.append((seq, index))

    def __bool__(self) -> bool:
        return bool(self.appends or self.keys or self.fills or self.first or self.replaced)


@dataclass
class _Op:
    index: int  # where in the text
    depth: int  # of the container: at one index, deeper containers' text comes first
    text: str = ""
    remove: int = 0  # characters removed at `index` first (an explicit null)


def splice(text: str, data: Any, edits: Edits) -> str | None:
    """`text` with the changes recorded in `edits` inserted; None when one cannot be placed."""
    from ruamel.yaml import YAML

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    nl = "\r\n" if "\r\n" in body else "\n"
    root = YAML().compose(body) if body.strip() else None
    if root is None:  # nothing but comments (or nothing): the whole document is new
        rendered = _block(data, DEFAULT_STYLE, 0, nl)
        if rendered is None:
            return None
        sep = nl if body and not body.endswith("\n") else ""
        return text + sep + rendered
    try:
        ops = _Splicer(body, root, data, nl).ops(edits)
    except _CannotPlace:
        return None
    out = body
    for index in sorted({op.index for op in ops}, reverse=True):
        here = sorted((op for op in ops if op.index == index), key=lambda op: -op.depth)
        removed = max(op.remove for op in here)
        insert = "".join(op.text for op in here)
        if insert.endswith(nl) and index == len(out) and not out.endswith("\n"):
            insert = nl + insert  # lines after a last line that had no newline
        out = out[:index] + insert + out[index + removed :]
    return bom + out


class _CannotPlace(Exception):
    pass


class _Splicer:
    def __init__(self, text: str, root: Any, data: Any, nl: str) -> None:
        self.text = text
        self.nl = nl
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.nodes: dict[int, tuple[Any, int]] = {}
        self._pair(root, data)
        self.style = _guess_style(root)

    # --- where things are ---------------------------------------------------------------------

    def _pair(self, root: Any, data: Any) -> None:
        """Map each container of the loaded data to its node in the composed tree (and depth)."""
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        stack = [(root, data, 0)]
        while stack:
            node, value, depth = stack.pop()
            if id(value) in self.nodes:
                continue  # an alias: the anchor, met first, is where it is written
            if isinstance(node, MappingNode) and isinstance(value, dict):
                self.nodes[id(value)] = (node, depth)
                keys = {str(k): k for k in value}
                for k, v in node.value:
                    if _tag(k).endswith(":merge") or k.value == "<<":
                        continue
                    key = keys.get(str(k.value))
                    if key is not None:
                        stack.append((v, value[key], depth + 1))
            elif isinstance(node, SequenceNode) and isinstance(value, list):
                self.nodes[id(value)] = (node, depth)
                stack.extend((n, v, depth + 1) for n, v in zip(node.value, value))

    def node(self, container: Any) -> tuple[Any, int]:
        try:
            return self.nodes[id(container)]
        except KeyError:
            raise _CannotPlace() from None

    def line_of(self, index: int) -> int:
        return bisect.bisect_right(self.starts, index) - 1

    def after_line(self, line: int) -> int:
        return self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)

    def end_line(self, node: Any) -> int:
        """The last line that holds a character of `node` (-1 for an empty scalar)."""
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            k, v = node.value[-1]
            return max(self.end_line(k), self.end_line(v))
        if isinstance(node, SequenceNode) and not node.flow_style and node.value:
            return max(self.line_of(node.start_mark.index), self.end_line(node.value[-1]))
        start, end = node.start_mark.index, node.end_mark.index
        if end <= start:
            return -1  # an empty value: its marks point at the next token
        if getattr(node, "style", None) in ("|", ">"):
            header = self.text[start : self.after_line(self.line_of(start))]
            if "+" not in header.split("#", 1)[0]:
                # A block scalar's marks run over the blank lines after it (they decide its
                # chomping); they separate it from what follows, and what is added to its
                # mapping goes before them. With `|+` they are part of the value.
                end = start + len(self.text[start:end].rstrip())
        # A block scalar ends at the start of the next line: its last character is its newline.
        return self.line_of(end - 1)

    # --- the edits ----------------------------------------------------------------------------

    def ops(self, edits: Edits) -> list[_Op]:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        out: list[_Op] = []
        m, s, o = self.style
        for seq, items in edits.appends.values():
            node, depth = self.node(seq)
            if not isinstance(node, SequenceNode):
                raise _CannotPlace()
            if node.flow_style:
                index = node.value[-1].end_mark.index if node.value else self._after(node.start_mark.index, "[")
                joined = ", ".join(_flow(item) for item in items)
                out.append(_Op(index, depth, (", " if node.value else "") + joined))
                continue
            dash, content = node.start_mark.column, node.value[0].start_mark.column
            gap = content - dash
            if gap < 2 or self.text[node.start_mark.index] != "-":
                raise _CannotPlace()
            block = self._need(_block(_seq(items), (m, o + gap, o), dash - o, self.nl))
            if self._items_spaced(node):
                # the file leaves a blank line between the items of this list: so do new items
                block = "".join(self.nl + chunk for chunk in self._item_chunks(block, dash))
            out.append(_Op(self.after_line(self.end_line(node)), depth, block))
        for mapping, keys in edits.keys.values():
            node, depth = self.node(mapping)
            if not isinstance(node, MappingNode):
                raise _CannotPlace()
            if node.flow_style:
                index = node.value[-1][1].end_mark.index if node.value else self._after(node.start_mark.index, "{")
                joined = ", ".join(f"{_flow(k)}: {_flow(mapping[k])}" for k in keys)
                out.append(_Op(index, depth, (", " if node.value else "") + joined))
                continue
            if not node.value:
                raise _CannotPlace()
            column = node.value[0][0].start_mark.column
            out.append(
                _Op(
                    self.after_line(self.end_line(node)),
                    depth,
                    self._need(_block(_map(mapping, keys), self.style, column, self.nl)),
                )
            )
        for mapping, key in edits.fills:
            node, depth = self.node(mapping)
            pair = (
                next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
                if isinstance(node, MappingNode)
                else None
            )
            if pair is None or not isinstance(pair[1], ScalarNode) or not _tag(pair[1]).endswith(":null"):
                raise _CannotPlace()
            k, v = pair
            if node.flow_style:
                if v.end_mark.index <= v.start_mark.index:
                    raise _CannotPlace()
                out.append(
                    _Op(v.start_mark.index, depth + 1, _flow(mapping[key]), v.end_mark.index - v.start_mark.index)
                )
                continue
            block = self._need(_block(_map(mapping, [key]), self.style, k.start_mark.column, self.nl))
            head, _, rest = block.partition(self.nl)
            if not head.rstrip().endswith(":") or not rest:
                raise _CannotPlace()  # a value that goes on the key's line: not a list or mapping
            if v.end_mark.index > v.start_mark.index:  # `key: ~` or `key: null`: the null goes
                colon = self.text.find(":", k.end_mark.index, v.start_mark.index)
                if colon < 0 or self.text[colon + 1 : v.start_mark.index].strip():
                    raise _CannotPlace()
                out.append(_Op(colon + 1, depth + 1, "", v.end_mark.index - colon - 1))
            out.append(_Op(self.after_line(self.line_of(k.start_mark.index)), depth + 1, rest))
        for seq, i in edits.replaced:
            node, depth = self.node(seq)
            if not isinstance(node, SequenceNode) or node.flow_style or i >= len(node.value):
                raise _CannotPlace()
            dash, content = node.start_mark.column, node.value[0].start_mark.column
            old = node.value[i]
            first = self.line_of(old.start_mark.index)  # the item starts on its dash's line
            if self.text[self.starts[first] + dash : self.starts[first] + dash + 1] != "-":
                raise _CannotPlace()
            start, end = self.starts[first], self.after_line(self.end_line(old))
            block = self._need(_block(_seq([seq[i]]), (m, o + content - dash, o), dash - o, self.nl))
            out.append(_Op(start, depth + 1, block, end - start))
        for mapping, key in edits.first:
            node, depth = self.node(mapping)
            if not isinstance(node, MappingNode) or node.flow_style or not node.value:
                raise _CannotPlace()
            first = node.value[0][0]
            block = self._need(_block(_map(mapping, [key]), self.style, first.start_mark.column, self.nl))
            out.append(_Op(self.starts[self.line_of(first.start_mark.index)], -1, block))
        return out

    def _items_spaced(self, node: Any) -> bool:
        """Whether every item of a block list after the first follows a blank line."""
        if len(node.value) < 2:
            return False
        for item in node.value[1:]:
            line = self.line_of(item.start_mark.index)
            if line == 0 or self.text[self.starts[line - 1] : self.starts[line]].strip():
                return False
        return True

    @staticmethod
    def _item_chunks(block: str, dash: int) -> list[str]:
        """The text of each list item in `block` (each starts with a dash at column `dash`)."""
        chunks: list[str] = []
        for line in block.splitlines(keepends=True):
            if line[dash : dash + 1] == "-" and not line[:dash].strip() or not chunks:
                chunks.append(line)
            else:
                chunks[-1] += line
        return chunks

    def _after(self, index: int, bracket: str) -> int:
        if self.text[index : index + 1] != bracket:
            raise _CannotPlace()
        return index + 1

    @staticmethod
    def _need(block: str | None) -> str:
        if block is None:
            raise _CannotPlace()
        return block


def _tag(node: Any) -> str:
    return str(getattr(node, "tag", "") or "")


def _guess_style(root: Any) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) the file uses, from its first nested
    mapping and its first block list under a key; dbt's usual layout where it has none."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    m: int | None = None
    seq: tuple[int, int] | None = None
    stack = [root]
    while stack and (m is None or seq is None):
        node = stack.pop()
        if isinstance(node, MappingNode):
            for k, v in node.value:
                col = k.start_mark.column
                if isinstance(v, SequenceNode) and not v.flow_style and v.value and seq is None and not node.flow_style:
                    seq = (v.value[0].start_mark.column - col, v.start_mark.column - col)
                if isinstance(v, MappingNode) and not v.flow_style and v.value and m is None and not node.flow_style:
                    m = v.value[0][0].start_mark.column - col
            stack.extend(reversed([v for _, v in node.value]))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
    mapping = m if m and m > 0 else DEFAULT_STYLE[0]
    sequence, offset = seq if seq and seq[1] >= 0 else DEFAULT_STYLE[1:]
    return mapping, max(sequence, offset + 2), offset


def _seq(items: list) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq(items)


def _map(mapping: dict, keys: list) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for k in keys:
        out[k] = mapping[k]
    return out


def _dumper(style: tuple[int, int, int]):
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # one line per value, as the rest of martsmith writes them
    mapping, sequence, offset = style
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _block(value: Any, style: tuple[int, int, int], shift: int, nl: str) -> str | None:
    """`value` as block YAML in `style`, every line moved right by `shift` columns (left when
    negative: then only spaces are taken away)."""
    out = io.StringIO()
    _dumper(style).dump(value, out)
    lines = out.getvalue().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    moved: list[str] = []
    for line in lines:
        if not line:
            moved.append(line)
        elif shift >= 0:
            moved.append(" " * shift + line)
        elif line[:-shift].strip():
            return None
        else:
            moved.append(line[-shift:])
    return "".join(line + nl for line in moved)


def _flow(value: Any) -> str:
    """`value` as one line of flow YAML; a scalar quoted as an item of a flow collection needs
    (`'a, b'`), as JSON (which is YAML) when ruamel would not keep it on one line."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq([value])
    seq.fa.set_flow_style()
    out = io.StringIO()
    _dumper(DEFAULT_STYLE).dump({"k": seq}, out)
    text = out.getvalue()
    if text.startswith("k: [") and text.endswith("]\n") and text.count("\n") == 1:
        return text[4:-2]
    return json.dumps(value, ensure_ascii=False, default=str)


__all__ = ["Edits", "splice"]
