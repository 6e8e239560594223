"""The package's shape: few top-level modules (everything else lives in its stage's package), and
one error tree (errors.py) that every error a user can see belongs to."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "martsmith"

TOP_LEVEL = {"__init__.py", "cli.py", "errors.py", "spec.py"}
PACKAGES = {
    "commands",
    "context",
    "eval",
    "inference",
    "llm",
    "pipelines",
    "plan",
    "profiling",
    "render",
    "review",
    "scaffold",
    "star",
    "unittests",
    "validate",
    "write",
}
# Exceptions defined outside errors.py that are not part of the tree: signals caught where they
# are raised, never shown to a user.
SIGNALS = {
    ("llm/client.py", "AnswerRejected"): "a parse callback rejecting an answer; complete_structured turns it into "
    "a repair turn",
}


def test_top_level_modules_are_only_the_entry_points_and_shared_types():
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert modules == TOP_LEVEL
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == PACKAGES


def _exception_classes(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
            if any(b.endswith(("Error", "Exception", "Failed", "Refused", "Changed", "Rejected")) for b in bases):
                out.append((node.name, bases))
    return out


def test_every_error_is_in_the_tree():
    from martsmith import errors

    tree = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.MartsmithError)
    }
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        if rel == "errors.py":
            continue
        for name, bases in _exception_classes(path):
            if name.startswith("_") or (rel, name) in SIGNALS:
                continue  # a private signal, caught in its own module
            outside.append(f"{rel}: {name}({', '.join(bases)})")
    assert outside == [], f"error classes outside errors.py (move them into the tree): {outside}; tree: {sorted(tree)}"


def test_the_readme_names_each_stage_module_once():
    """README's "How it works" table is the map a newcomer follows: every module of the stages
    is in it exactly once (the CLI layer, the error tree and the scaffold are described below it)."""
    import re

    readme = (PACKAGE.parents[1] / "README.md").read_text()
    table = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"^\| \w+ \| `([\w/]+\.py)` \|", table, flags=re.M)
    around = {"cli.py", "errors.py", "__init__.py"}
    modules = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and p.parts[-2] not in ("commands", "scaffold") and p.name not in around
    }
    assert sorted(n for n in named if named.count(n) > 1) == []
    assert set(named) == modules
