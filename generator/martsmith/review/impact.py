"""What a change touches downstream: the models and exposures below each changed model, and a
Mermaid lineage of the change (its parents, the changed models, their children).

>>> print(mermaid({"a": [], "b": ["a"]}, {"a": "modified", "b": "impacted"}))
graph LR
  a["a"]:::modified
  b["b"]:::impacted
  a --> b
  classDef modified fill:#fff3bf,stroke:#f08c00
  classDef impacted fill:#e7f5ff,stroke:#1c7ed6
"""

from __future__ import annotations

import re

from martsmith.review.changes import ChangeSet, Manifest

STYLES = {
    "added": "fill:#d3f9d8,stroke:#2f9e44",
    "modified": "fill:#fff3bf,stroke:#f08c00",
    "removed": "fill:#ffe3e3,stroke:#e03131,stroke-dasharray: 4 2",
    "impacted": "fill:#e7f5ff,stroke:#1c7ed6",
    "parent": "fill:#f8f9fa,stroke:#adb5bd",
}


def downstream(manifest: Manifest, name: str) -> tuple[list[str], list[str]]:
    """(models, exposures) below `name`, transitively, sorted."""
    start = manifest.models.get(name)
    if start is None:
        return [], []
    models, exposures, seen = set(), set(), set()
    todo = [start.unique_id]
    while todo:
        for child in manifest.children.get(todo.pop(), []):
            if child in seen:
                continue
            seen.add(child)
            if child in manifest.exposures:
                exposures.add(manifest.exposures[child])
            elif (m := manifest.by_id(child)) is not None:
                models.add(m.name)
                todo.append(child)
    return sorted(models), sorted(exposures)


def _node_id(name: str) -> str:
    return re.sub(r"\W", "_", name)


def mermaid(parents: dict[str, list[str]], kinds: dict[str, str]) -> str:
    """`graph LR` of the nodes in `kinds` (name -> added | modified | removed | impacted |
    parent), edges from `parents` (name -> the names it reads)."""
    lines = ["graph LR"]
    for name in sorted(kinds):
        lines.append(f'  {_node_id(name)}["{name}"]:::{kinds[name]}')
    for name in sorted(parents):
        for parent in sorted(parents[name]):
            if parent in kinds and name in kinds:
                lines.append(f"  {_node_id(parent)} --> {_node_id(name)}")
    for kind in STYLES:
        if kind in kinds.values():
            lines.append(f"  classDef {kind} {STYLES[kind]}")
    return "\n".join(lines)


def lineage(head: Manifest, base: Manifest, change: ChangeSet) -> str:
    """The Mermaid graph of the change: its parents, the changed and removed models, children."""
    kinds: dict[str, str] = {}
    parents: dict[str, list[str]] = {}

    def names(manifest: Manifest, ids: list[str]) -> list[str]:
        out = []
        for uid in ids:
            if (m := manifest.by_id(uid)) is not None:
                out.append(m.name)
            elif uid in manifest.sources:
                out.append("{}.{}".format(*manifest.sources[uid]))
        return out

    for name in change.added + change.modified + change.children:
        parents[name] = names(head, head.models[name].depends_on)
    for name in change.removed:
        parents[name] = names(base, base.models[name].depends_on)
    for ps in parents.values():
        for p in ps:
            kinds.setdefault(p, "parent")
    for name in change.children:
        kinds[name] = "impacted"
    for kind, group in (("added", change.added), ("modified", change.modified), ("removed", change.removed)):
        for name in group:
            kinds[name] = kind
    return mermaid(parents, kinds)
