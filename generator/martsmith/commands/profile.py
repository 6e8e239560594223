"""`martsmith profile`: what the data of one source or model looks like, in one pass."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import click

from martsmith.commands.options import format_option, project_options
from martsmith.commands.output import emit_json, line, progress

VALUE_WIDTH = 24
TOP_WIDTH = 48


def _cell(value: Any, width: int = VALUE_WIDTH) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    text = line(text, 4 * width)  # data values: no escapes, no control characters, one line
    return text if len(text) <= width else text[: width - 1] + "…"


def _top(values: list[tuple[Any, int]] | None) -> str:
    if not values:
        return ""
    parts: list[str] = []
    used = 0
    for i, (value, count) in enumerate(values):
        part = f"{_cell(value, 20)} ({count})"
        rest = len(values) - i - 1
        if parts and used + len(part) + 2 > TOP_WIDTH:
            parts.append(f"+{rest + 1} more")
            break
        parts.append(part)
        used += len(part) + 2
    return ", ".join(parts)


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_text(p) -> str:
    """A readable profile: a header, one aligned line per column, then details and keys."""
    plural = "query" if p.queries == 1 else "queries"
    lines = [
        click.style(line(p.label, 200), bold=True) + f"  {line(p.relation, 200)}",
        f"{p.row_count:,} rows · {p.queries} {plural}",
        "",
    ]
    rows = [["column", "type", "nulls", "distinct", "min", "max", "top values"]]
    for c in p.columns:
        nulls = f"{c.null_count:,}"
        if c.null_count and p.row_count:
            nulls += f" ({100 * c.null_count / p.row_count:.1f}%)"
        distinct = ("~" if c.distinct_approximate else "") + f"{c.distinct_count:,}"
        rows.append(
            [_cell(c.name, 64), _cell(c.data_type, 40), nulls, distinct, _cell(c.min), _cell(c.max), _top(c.top_values)]
        )
    lines += _table(rows, right={2, 3})
    details = []
    for c in p.columns:
        bits = []
        if c.mean is not None:
            bits.append(f"mean {_cell(c.mean)}")
        if c.stddev is not None:
            bits.append(f"stddev {_cell(c.stddev)}")
        if c.quantiles:
            bits.append(" ".join(f"{k} {_cell(v)}" for k, v in c.quantiles.items()))
        if c.negative_count:
            bits.append(f"{c.negative_count:,} negative")
        if c.min_length is not None:
            bits.append(f"length {c.min_length}..{c.max_length}")
        if bits:
            details.append(f"  {_cell(c.name, 64)}: " + "; ".join(bits))
    if details:
        lines += ["", "details:", *details]
    lines.append("")
    if p.key_candidates:
        keys = ", ".join(
            "(" + ", ".join(_cell(c, 64) for c in k) + ")" if len(k) > 1 else _cell(k[0], 64) for k in p.key_candidates
        )
        lines.append(f"key candidates: {keys}")
        if p.row_count < 1000:
            lines.append(f"  (unique in {p.row_count:,} rows: that may be a coincidence)")
    else:
        lines.append("key candidates: none")
    approx = [c.name for c in p.columns if c.distinct_approximate]
    if approx:
        lines.append("~ approximate distinct counts and quantiles (large table)")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """JSON-friendly values: numbers stay numbers, times become ISO 8601 strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@click.command()
@click.argument("node")
@format_option
@project_options
def profile(node, output_format, project) -> None:
    """Profile NODE, a source or model as dbt selects it, in one pass over its data.

    For every column: nulls, distinct values (approximate above a million rows), min and max,
    mean, standard deviation and quantiles of numbers, string lengths, and every value with
    its count when there are at most 30. Then key candidates: columns (or combinations of up
    to three) that are unique and never null in the data. A key found in few rows may be
    unique by coincidence: weigh it by the row count.

    \b
    Examples:
      martsmith profile source:shop.orders
      martsmith profile shop.order_items
      martsmith profile stg_shop__orders --format json
    """
    # Imported when the command runs: reading the project loads dbt's wrapper and the catalog.
    from martsmith.context.catalog import resolve_node
    from martsmith.context.load import load_context
    from martsmith.context.warehouse import Warehouse
    from martsmith.profiling.profiler import profile_relation

    proj = project()
    quiet = output_format == "json"
    say = lambda m: progress(m, quiet=quiet)  # noqa: E731
    # The catalog without statistics: this command profiles the one table itself.
    catalog = load_context(proj, say, profile=False, need_package=False).catalog
    table = resolve_node(catalog, node)
    say(f"profiling {table.label}")
    with Warehouse(proj) as wh:
        result = profile_relation(wh, table)
    if output_format == "json":
        emit_json(_plain(result.as_dict()))
        return
    click.echo(render_text(result))
