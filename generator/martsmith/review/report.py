"""A `Review` as a PR comment (Markdown: a summary table first, details in `<details>`, the
Mermaid lineage), as JSON with every figure, as SARIF 2.1.0 for code-scanning annotations, or
as plain text for a terminal.

Every figure in the Markdown is deterministic (no timings, no paths outside the project), so
the same change always renders the same comment.
"""

from __future__ import annotations

import json
from typing import Any

from martsmith import __version__
from martsmith.review.datadiff import DataDiff, plain
from martsmith.review.pipeline import ModelReview, Review
from martsmith.review.rules import RULE, RULES

MARKER = "<!-- martsmith-review -->"  # the CI step finds its own comment by it, to update it
ICON = {"error": "🔴", "warn": "🟡"}
MAX_CELL = 80
MAX_FINDING = 300


def _cell(value: Any, limit: int = MAX_CELL) -> str:
    """A value inside a Markdown table cell: one line, no pipes, not too long."""
    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    text = " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _findings_of(review: Review, name: str) -> str:
    errors = sum(1 for f in review.findings if f.model == name and f.severity == "error")
    warns = sum(1 for f in review.findings if f.model == name and f.severity == "warn")
    parts = [f"{ICON['error']} {errors}"] if errors else []
    parts += [f"{ICON['warn']} {warns}"] if warns else []
    return " ".join(parts) or "✅"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def headline(review: Review) -> str:
    groups = {k: [m for m in review.models if m.change == k] for k in ("added", "modified", "removed", "downstream")}
    changed = len(groups["added"]) + len(groups["modified"]) + len(groups["removed"])
    if not changed:
        return f"No model changed against `{review.base}`."
    what = ", ".join(f"{len(v)} {k}" for k, v in groups.items() if v and k != "downstream")
    below = f", {len(groups['downstream'])} downstream" if groups["downstream"] else ""
    errors, warns = review.count("error"), review.count("warn")
    b = review.build
    built = (
        f" · build: {_n(len(b.models_built), 'model')}, {b.tests_passed} tests passed, {len(b.tests_failed)} failed"
        if b.ran
        else ""
    )
    return (
        f"**{changed} {'model' if changed == 1 else 'models'} changed** against `{review.base}` ({what}){below}"
        f" · {errors} {'error' if errors == 1 else 'errors'}, {warns} {'warning' if warns == 1 else 'warnings'}" + built
    )


def _provenance_cell(m: ModelReview) -> str:
    if m.provenance is not None:
        return m.provenance.status
    return "generated" if m.generated else "hand-written"


def _data_cell(m: ModelReview) -> str:
    if m.diff is None:
        return "-"
    return _cell(m.diff.verdict)


def _diff_details(d: DataDiff) -> list[str]:
    out = []
    if d.status == "compared":
        rows = f"rows: {d.base_rows:,} → {d.head_rows:,}"
        key = f" · key: `{', '.join(d.key)}`" if d.key else " · no primary key to join on"
        out.append(rows + key)
        if d.key:
            out.append(f"added {d.rows_added:,} · removed {d.rows_removed:,} · changed {d.rows_changed:,}")
        if d.schema_changed:
            out += ["", "| column | change |", "|---|---|"]
            out += [f"| `{c}` | added |" for c in d.columns_added]
            out += [f"| `{c}` | removed |" for c in d.columns_removed]
            out += [f"| `{c}` | {_cell(a)} → {_cell(b)} |" for c, a, b in d.columns_retyped]
        if d.changed_columns:
            out += ["", "| column | rows changed |", "|---|---:|"]
            out += [f"| `{c}` | {n:,} |" for c, n in sorted(d.changed_columns.items(), key=lambda x: (-x[1], x[0]))]
        for title, examples in (
            ("changed", d.examples_changed),
            ("added", d.examples_added),
            ("removed", d.examples_removed),
        ):
            if examples:
                out += ["", f"Rows {title} (first {len(examples)}):", "", _table(examples, d.key)]
        if d.profile_changes:
            out += ["", "| column | statistic | base | head |", "|---|---|---|---|"]
            out += [f"| `{c.column}` | {c.stat} | {_cell(c.base)} | {_cell(c.head)} |" for c in d.profile_changes]
    elif d.status == "new":
        out.append(f"new model: {d.head_rows:,} rows" if d.head_rows is not None else "new model")
    else:
        out.append(d.status)
    return out


def _table(rows: list[dict], key: list[str]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(f"`{c}`" for c in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            cells.append(
                f"{_cell(v['base'])} → {_cell(v['head'])}" if isinstance(v, dict) and "base" in v else _cell(v)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(review: Review) -> str:
    out = [MARKER, "## martsmith review", "", headline(review), ""]
    if review.models:
        out += ["| model | change | provenance | build | data | findings |", "|---|---|---|---|---|---|"]
        for m in review.models:
            out.append(
                f"| `{m.name}` | {m.change} | {_provenance_cell(m)} | {m.build} | {_data_cell(m)} | "
                f"{_findings_of(review, m.name)} |"
            )
        out.append("")
    if review.findings:
        out += ["### Findings", "", "| | rule | model | where | finding |", "|---|---|---|---|---|"]
        for f in review.findings:
            where = f"`{f.path}:{f.line}`" if f.path and f.line else (f"`{f.path}`" if f.path else "")
            out.append(
                f"| {ICON[f.severity]} | {f.rule} {f.name} | `{f.model}` | {where} | {_cell(f.message, MAX_FINDING)} |"
            )
        out.append("")
    changed = [m for m in review.models if m.change in ("added", "modified")]
    if changed:
        tested = sum(1 for m in changed if m.tests)
        described = sum(1 for m in changed if m.described)
        docs = sum(m.columns_documented[0] for m in changed)
        cols = sum(m.columns_documented[1] for m in changed)
        out += [
            f"Coverage of the change: {tested}/{len(changed)} models tested, {described}/{len(changed)} described, "
            f"{docs}/{cols} documented columns.",
            "",
        ]
    for m in review.models:
        body = _details(review, m)
        if body:
            out += [
                f"<details><summary><code>{m.name}</code>: {_cell(_summary(m))}</summary>",
                "",
                *body,
                "",
                "</details>",
                "",
            ]
    if review.build.tests_failed:
        out += ["<details><summary>failing tests</summary>", ""]
        for t in review.build.tests_failed:
            out += [f"**{t.name}** ({_cell(t.message)})", ""]
            if t.examples:
                out += [_table(plain(t.examples), []), ""]
        out += ["</details>", ""]
    if review.models:
        out += ["### Lineage", "", "```mermaid", review.lineage, "```", ""]
    rules = sorted({f.rule for f in review.findings})
    if rules:
        out += ["<details><summary>the rules</summary>", ""]
        out += [f"- **{r} {RULE[r].name}** ({RULE[r].severity}): {RULE[r].doc}" for r in rules]
        out += ["", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"


def _summary(m: ModelReview) -> str:
    return m.diff.verdict if m.diff is not None else m.change


def _details(review: Review, m: ModelReview) -> list[str]:
    body: list[str] = []
    if m.diff is not None:
        body += _diff_details(m.diff)
    if m.provenance is not None:
        p = m.provenance
        body += ["", f"Provenance: **{p.status}** (request: “{_cell(p.request)}”, {p.planner} planner)"]
        if p.detail:
            body.append(f"— {p.detail}")
        if p.diff:
            body += ["", "```diff", p.diff.rstrip("\n"), "```"]
    if m.downstream or m.exposures:
        body += [
            "",
            "Downstream: " + ", ".join([f"`{d}`" for d in m.downstream] + [f"exposure `{e}`" for e in m.exposures]),
        ]
    return body


def as_json(review: Review) -> dict:
    return {
        "base": review.base,
        "summary": {
            "added": [m.name for m in review.models if m.change == "added"],
            "modified": [m.name for m in review.models if m.change == "modified"],
            "removed": [m.name for m in review.models if m.change == "removed"],
            "downstream": [m.name for m in review.models if m.change == "downstream"],
            "errors": review.count("error"),
            "warnings": review.count("warn"),
        },
        "models": [
            {
                "name": m.name,
                "change": m.change,
                "path": m.path,
                "generated": m.generated,
                "build": m.build,
                "tests": m.tests,
                "described": m.described,
                "columns_documented": list(m.columns_documented),
                "downstream": m.downstream,
                "exposures": m.exposures,
                "provenance": m.provenance.as_dict() if m.provenance else None,
                "data": m.diff.as_dict() if m.diff else None,
            }
            for m in review.models
        ],
        "findings": [f.as_dict() for f in review.findings],
        "build": plain(
            {
                "ran": review.build.ran,
                "models_built": review.build.models_built,
                "models_failed": review.build.models_failed,
                "tests_passed": review.build.tests_passed,
                "tests_warned": review.build.tests_warned,
                "tests_failed": [t.__dict__ for t in review.build.tests_failed],
                "skipped": review.build.skipped,
            }
        ),
        "lineage": review.lineage,
        "seconds": review.seconds,
    }


def text(review: Review) -> str:
    """For a terminal: the headline, one line per model, one per finding."""
    out = [headline(review).replace("**", "").replace("`", "")]
    for m in review.models:
        out.append(f"  {m.change:<10} {m.name}  [{_provenance_cell(m)}; {m.build}]  {_data_cell(m)}")
    for f in review.findings:
        where = f" ({f.path}:{f.line})" if f.path and f.line else ""
        out.append(f"  {f.severity:<5} {f.rule} {f.name}: {f.message}{where}")
    return "\n".join(out) + "\n"


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warn": "warning"}


def sarif(review: Review, prefix: str = "") -> dict:
    """The findings as one SARIF 2.1.0 run, for GitHub code scanning (upload-sarif).

    One result per finding that names a file (every static one does; a project-wide build
    failure names none and stays in the comment), at its line (line 1 when the finding is about
    the whole file: code scanning needs a `startLine`). `prefix` is the project's folder inside
    the repository (`analytics/` or ""), so that each `uri` is relative to the repository's root
    as code scanning resolves it. All the rules are in `tool.driver.rules`, with their docs."""
    index = {r.id: i for i, r in enumerate(RULES)}
    rules = [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": f"{r.id} {r.name}"},
            "fullDescription": {"text": r.doc},
            "help": {"text": r.doc, "markdown": f"**{r.id} {r.name}** ({r.severity}): {r.doc}"},
            "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
            "properties": {"tags": ["dbt", "martsmith"], "problem.severity": SARIF_LEVEL[r.severity]},
        }
        for r in RULES
    ]
    results = []
    for f in review.findings:
        if not f.path:
            continue
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": f"{f.model}: {f.message}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": prefix + f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": f.line or 1},
                        }
                    }
                ],
                "properties": {"model": f.model},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "martsmith",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "martsmith-review/"},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
