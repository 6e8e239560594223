"""The package's import graph, read with ast: no cycles, and no function-level import of the
package's own modules without a reason written beside it.

A module-level cycle makes import order matter (a name is missing until the other module
finishes); a function-level import that hides one makes the cycle invisible. Function-level
imports of martsmith.* are for keeping `--help` fast or a heavy import off a path that does not
need it, and say so in a comment on the same line or the line before the import block.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "martsmith"

# (importing module, imported module) -> why a function-level import of it has no comment.
UNCOMMENTED = {}
# Edges of the full graph (function-level imports included) allowed to close a cycle, and why.
CYCLE_EDGES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = ["martsmith", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {module_name(p) for p in PACKAGE.rglob("__init__.py")}


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _targets(node: ast.Import | ast.ImportFrom, source: str) -> list[str]:
    """The martsmith modules an import statement executes: the module named, and each package
    above it that the importing module is not already inside."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: resolve against the importing module's package
            package = source if source in PACKAGES else source.rsplit(".", 1)[0]
            package = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for name in names:
        if not (name == "martsmith" or name.startswith("martsmith.")):
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            inside = source == mod or source.startswith(mod + ".")
            if mod in MODULES and not inside and mod not in out:
                out.append(mod)
    return out


def imports(source: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue  # for the type checker only: never executed
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend(Import(source, t, child.lineno, top_level) for t in _targets(child, source))
            inner = top_level and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, inner)

    visit(tree, True)
    return found


ALL = [imp for name, path in MODULES.items() for imp in imports(name, path)]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (or a module importing
    itself), as a sorted list: Tarjan's algorithm."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, []):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def test_the_graph_is_read():
    # The reader sees what it should: a top-level import, a function-level one, a package edge.
    top = {(i.source, i.target) for i in ALL if i.top_level}
    assert ("martsmith.pipelines.model", "martsmith.pipelines.run") in top
    assert ("martsmith.pipelines.run", "martsmith.write") in top  # from martsmith.write import ...
    lazy = {(i.source, i.target) for i in ALL if not i.top_level}
    assert ("martsmith.commands.model", "martsmith.pipelines.model") in lazy
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def test_no_module_level_import_cycles():
    found = cycles({(i.source, i.target) for i in ALL if i.top_level})
    assert found == [], f"import cycles between modules: {found}"


def test_no_cycle_hidden_by_a_function_level_import():
    edges = {(i.source, i.target) for i in ALL} - set(CYCLE_EDGES)
    found = cycles(edges)
    assert found == [], f"import cycles once function-level imports count: {found}"


def _commented(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or on the line before the block of imports it is in."""
    if "#" in lines[line - 1]:
        return True
    i = line - 2
    while i >= 0 and lines[i].strip().startswith(("from ", "import ")):
        if "#" in lines[i]:
            return True
        i -= 1
    return i >= 0 and lines[i].strip().startswith("#")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_function_level_imports_say_why(module):
    lines = MODULES[module].read_text().splitlines()
    lazy = [i for i in ALL if i.source == module and not i.top_level]
    excused = {i.line for i in lazy if (i.source, i.target) in UNCOMMENTED}
    bare = sorted({i.line for i in lazy} - excused)
    bare = [line for line in bare if not _commented(lines, line)]
    assert bare == [], (
        f"{module}: function-level imports of martsmith.* without a comment saying why (lines {bare}); "
        "import at module level, or say what it keeps off the import path"
    )


def test_allowlists_name_real_modules():
    # An entry may go stale when its import is fixed (on another branch): only typos fail here.
    for pair in [*UNCOMMENTED, *CYCLE_EDGES]:
        assert set(pair) <= set(MODULES), pair
