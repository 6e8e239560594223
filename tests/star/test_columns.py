"""The columns of the star's models live apart from rendering: the ERD reads them without
importing the renderer (no import cycle, no function-level import to hide one)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import martsmith.star as star_pkg


def test_erd_does_not_import_the_renderer():
    code = "import sys, martsmith.star.erd; print('martsmith.star.render' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_function_level_imports_between_render_and_erd():
    for name in ("render.py", "erd.py"):
        tree = ast.parse((Path(star_pkg.__file__).parent / name).read_text())
        nested = [
            n
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef)
            for n in ast.walk(f)
            if isinstance(n, (ast.Import, ast.ImportFrom))
        ]
        assert nested == [], name
