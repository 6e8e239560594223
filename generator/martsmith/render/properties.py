"""Spec -> the model's YAML properties file: descriptions (stating the grain), column docs,
data tests (`data_tests:` with `arguments:`, dbt >= 1.10) and `meta.martsmith` provenance."""

from __future__ import annotations

from typing import Any

import yaml

from martsmith import __version__
from martsmith.render.jinja_safe import inert_all
from martsmith.spec import ModelSpec, TestSpec, WindowSpec, pivot_columns

# Keys whose values are prose (descriptions, the request, notes): dbt renders them, so they are
# written inert. Every other string is data, and the write-time allowlist refuses templates in it.
PROSE_KEYS = frozenset({"description", "request", "notes"})


class _Dumper(yaml.SafeDumper):
    """Block style, readable multi-line strings, lists indented under their key (dbt style)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _str_presenter(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def prose_inert(data: Any) -> Any:
    """`data` with the values of prose keys (at any depth) made inert (see render.jinja_safe).

    >>> prose_inert({"models": [{"name": "m", "description": "{{ x }}"}]})
    {'models': [{'name': 'm', 'description': '{ { x }}'}]}
    """
    if isinstance(data, dict):
        return {k: inert_all(v) if k in PROSE_KEYS else prose_inert(v) for k, v in data.items()}
    if isinstance(data, list):
        return [prose_inert(v) for v in data]
    return data


def dump_yaml(data: Any) -> str:
    """The YAML writer for every file martsmith renders (prose made inert on the way)."""
    return yaml.dump(prose_inert(data), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)


def render_test(test: TestSpec) -> Any:
    """`unique` or `{name: {arguments: {...}, config: {...}}}`."""
    body: dict[str, Any] = {}
    if test.arguments:
        body["arguments"] = dict(test.arguments)
    if test.severity != "error":
        body["config"] = {"severity": test.severity}
    return test.name if not body else {test.name: body}


def window_description(w: WindowSpec) -> str:
    """What a window column holds, from its spec, when the planner gave no description.

    >>> window_description(WindowSpec(name="r", function="rank", order_by="revenue", direction="desc",
    ...                               partition_by=["country"]))
    'Rank by revenue descending (ties share a rank), within each country.'
    >>> window_description(WindowSpec(name="p", function="lag", column="revenue", order_by="month"))
    'Revenue of the previous row by month (null on the first row).'
    """
    k = w.periods or 1
    order = f"{w.order_by}{' descending' if w.direction == 'desc' else ''}"
    rows = "row" if k == 1 else f"{k} rows"
    before = "previous row" if k == 1 else f"row {k} before"
    text = {
        "running_total": f"Running total of {w.column} by {order}",
        "moving_average": f"Average of {w.column} over the last {w.periods or 3} rows by {order}",
        "rank": f"Rank by {order} (ties share a rank)",
        "dense_rank": f"Dense rank by {order} (ties share a rank, no gaps)",
        "row_number": f"Row number by {order}",
        "lag": f"{str(w.column).capitalize()} of the previous {rows} by {order} (null on the first {rows})",
        "lead": f"{str(w.column).capitalize()} of the next {rows} by {order} (null on the last {rows})",
        "change": f"{str(w.column).capitalize()} minus its value on the {before} by {order} (null on the first {rows})",
        "percent_change": f"Percent change of {w.column} from the {before} by {order} "
        f"(null on the first {rows} and where that value is 0)",
        "share_of_total": f"Share of {w.column} in the total (a fraction)",
    }[w.function]
    if w.partition_by:
        text += ", within each " + " and ".join(w.partition_by)
    return text + "."


def column_descriptions(spec: ModelSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    if spec.surrogate_key:
        out[spec.surrogate_key] = (
            "Surrogate key of the grain (" + ", ".join(spec.grain) + "), built with martsmith.surrogate_key."
        )
    for d in spec.dimensions:
        out[d.name] = d.description
    for m in spec.measures:
        if spec.pivot and spec.pivot.measure == m.name:
            what = m.description.rstrip(".") or m.name.replace("_", " ").capitalize()
            for value, name in pivot_columns(m.name, spec.pivot.values):
                shown = "null" if value is None else repr(value)
                out[name] = f"{what}, where {spec.pivot.column} is {shown}."
        else:
            out[m.name] = m.description
    for r in spec.ratios:
        out[r.name] = r.description or (
            f"{r.numerator} / {r.denominator}"
            + (" as a percentage" if r.percent else " (a fraction)")
            + f"; null where {r.denominator} is 0."
        )
    for w in spec.windows:
        out[w.name] = w.description or window_description(w)
    for c in spec.columns:
        if c.description or c.name not in out:
            out[c.name] = c.description
    return out


def render_properties(spec: ModelSpec) -> str:
    columns = []
    descriptions = column_descriptions(spec)
    column_tests: dict[str, list[TestSpec]] = {}
    model_tests: list[TestSpec] = []
    for t in spec.tests:
        (column_tests.setdefault(t.column, []) if t.column else model_tests).append(t)
    names = list(descriptions) + [c for c in column_tests if c not in descriptions]
    for name in names:
        entry: dict[str, Any] = {"name": name}
        if descriptions.get(name):
            entry["description"] = descriptions[name]
        if name in column_tests:
            entry["data_tests"] = [render_test(t) for t in column_tests[name]]
        columns.append(entry)
    meta: dict[str, Any] = {
        "request": spec.request,
        "planner": spec.planner,
        "version": __version__,
    }
    if spec.grain:
        meta["grain"] = list(spec.grain)
    if spec.sql_body is None and spec.measures:
        # Planners don't build on martsmith's aggregates (an average of averages is wrong).
        meta["aggregate"] = True
    model: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "config": {"materialized": spec.materialized, "meta": {"martsmith": meta}},
    }
    if model_tests:
        model["data_tests"] = [render_test(t) for t in model_tests]
    model["columns"] = columns
    return dump_yaml({"version": 2, "models": [model]})
