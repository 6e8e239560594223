"""`make eval`: the repository's own evaluation sets through `martsmith eval`, accuracy per set
written into BENCHMARKS.md (between the eval markers). Each set gets a fresh project in a temp
folder (bench/eval/setup.py); nothing of the checkout changes but BENCHMARKS.md.

    .venv/bin/python bench/eval/run.py [--llm MODEL] [--sets bikeshare library] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
BEGIN, END = "<!-- eval:begin -->", "<!-- eval:end -->"
SETS = ("bikeshare", "library", "clinic")


def run_set(name: str, llm: str | None) -> dict:
    sys.path.insert(0, str(HERE))
    from setup import build  # bench/eval/setup.py

    with tempfile.TemporaryDirectory(prefix=f"martsmith-eval-{name}-") as tmp:
        root = build(name, Path(tmp) / name)
        cmd = [
            str(BIN / "martsmith"),
            "eval",
            str(HERE / name / "cases.yml"),
            "--format",
            "json",
            "--project-dir",
            str(root),
        ] + (["--llm", llm] if llm else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"martsmith eval failed on {name}:\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout)


def table(reports: dict[str, dict]) -> str:
    lines = [
        "| set | cases | pass | wrong (exit 0) | refused | errors | accuracy | time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in reports.items():
        n = r["cases"]
        lines.append(
            f"| {name} ({r['planner']}) | {n} | {r['passed']} | {r['wrong']} ({r['wrong'] / n:.0%}) | "
            f"{r['refused']} | {r['errors']} | **{r['accuracy']:.0%}** | {r['seconds']:.0f} s |"
        )
    shapes: dict[str, dict[str, int]] = {}
    for r in reports.values():
        for shape, counts in r["by_shape"].items():
            row = shapes.setdefault(shape, {})
            for k, v in counts.items():
                row[k] = row.get(k, 0) + v
    lines += ["", "| shape (all sets) | pass | wrong | refused | errors |", "|---|---|---|---|---|"]
    for shape, c in sorted(shapes.items()):
        lines.append(
            f"| {shape} | {c.get('pass', 0)} | {c.get('wrong', 0)} | {c.get('refused', 0)} | {c.get('error', 0)} |"
        )
    return "\n".join(lines)


def write(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    doc = path.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default=None)
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    reports = {name: run_set(name, args.llm) for name in args.sets}
    text = table(reports)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
