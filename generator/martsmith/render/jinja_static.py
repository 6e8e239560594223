"""Render a model's Jinja to plain SQL *without dbt*, for static checks and linting.

`source()`/`ref()` become the physical relations the catalog knows; the few macros generated code
may call (`dbt.date_trunc`, `martsmith.surrogate_key`, `martsmith.date_spine`,
`martsmith.deduplicate`, the date parts and names of macros/cross_db/, `config`) become equivalent
plain SQL, in DuckDB's spelling (the dialect the static checks parse).
Anything else is refused: generated SQL has no business calling arbitrary Jinja.

>>> render_static("select * from {{ ref('m') }}", {("ref", "m"): '"main"."m"'})
'select * from "main"."m"'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING

import jinja2
import jinja2.sandbox

from martsmith.errors import JinjaCheckError

if TYPE_CHECKING:
    from martsmith.context.catalog import Catalog


def _date_trunc(datepart: str, expr: str) -> str:
    return f"date_trunc('{datepart}', {expr})"


def _surrogate_key(fields: list[str]) -> str:
    # `|| ''` makes text of any type and keeps a null null; the same as the host's sqlfluff
    # stand-in (macros/martsmith_sqlfluff), which must parse in every dialect.
    parts = " || '-' || ".join(f"coalesce({f} || '', '_martsmith_null_')" for f in fields)
    return "md5(" + (parts or "''") + ")"


def _date_expression(value: str) -> str:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(value)):
        return f"cast('{value}' as date)"
    return f"cast({value} as date)"


def _date_spine(start_date: str, end_date: str) -> str:
    """martsmith.date_spine in plain SQL: one row per day in [start, end), column `date_day`.
    (A scalar range() unnested, not the range() table function the safety check refuses.)

    >>> _date_spine('2024-01-01', 'current_date')
    "select cast(unnest(range(cast('2024-01-01' as date), cast(current_date as date), interval 1 day)) as date) as date_day"
    """
    return (
        f"select cast(unnest(range({_date_expression(start_date)}, {_date_expression(end_date)}, "
        "interval 1 day)) as date) as date_day"
    )


def _dateadd(datepart: str, interval: int, from_date_or_timestamp: str) -> str:
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def _deduplicate(relation: str, partition_by: str, order_by: str) -> str:
    """martsmith.deduplicate as DuckDB runs it: the relation's own columns, one row per key.

    >>> _deduplicate('"main"."o"', partition_by='id', order_by='at desc nulls last')
    'select * from "main"."o" qualify row_number() over (partition by id order by at desc nulls last) = 1'
    """
    return f"select * from {relation} qualify row_number() over (partition by {partition_by} order by {order_by}) = 1"


def _date_key(date: str) -> str:
    return f"cast(strftime({date}, '%Y%m%d') as integer)"


def macro_namespaces() -> dict[str, object]:
    """Plain-SQL stand-ins for the dbt and martsmith macros generated code uses."""
    return {
        "dbt": SimpleNamespace(date_trunc=_date_trunc, dateadd=_dateadd, type_string=lambda: "varchar"),
        "martsmith": SimpleNamespace(
            surrogate_key=_surrogate_key,
            date_spine=_date_spine,
            deduplicate=_deduplicate,
            date_key=_date_key,
            date_part=lambda datepart, date: f"cast(extract({datepart} from {date}) as bigint)",
            iso_day_of_week=lambda date: f"isodow({date})",
            day_name=lambda date: f"dayname({date})",
            month_name=lambda date: f"monthname({date})",
        ),
        "config": lambda *a, **k: "",
    }


def relation_map(catalog: Catalog) -> dict[tuple[str, ...], str]:
    """(source, name, table) / (ref, model) -> "schema"."identifier" for render_static."""
    out: dict[tuple[str, ...], str] = {}
    for t in catalog.tables:
        key = ("source", t.source_name or "", t.name) if t.kind == "source" else ("ref", t.name)
        out[key] = f'"{t.schema}"."{t.identifier}"'
    return out


def render_static(
    sql: str,
    relations: dict[tuple[str, ...], str],
    *,
    on_unknown: Callable[[str], str] | None = None,
) -> str:
    """Render `sql`. `relations` maps ("source", source_name, table) and ("ref", model) to SQL
    relation names. An unknown source/ref raises JinjaCheckError (or calls on_unknown)."""

    def lookup(key: tuple[str, ...], shown: str) -> str:
        if key in relations:
            return relations[key]
        if on_unknown is not None:
            return on_unknown(shown)
        raise JinjaCheckError(f"{shown} is not a source or model of this project (or is not built).")

    def source(source_name: str, table: str) -> str:
        return lookup(("source", source_name, table), f"source('{source_name}', '{table}')")

    def ref(*args: str, **kwargs: object) -> str:
        model = args[-1]
        return lookup(("ref", model), f"ref('{model}')")

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    context = {"source": source, "ref": ref, **macro_namespaces()}
    try:
        return env.from_string(sql).render(**context)
    except jinja2.UndefinedError as exc:
        raise JinjaCheckError(
            f"The SQL uses Jinja martsmith cannot check: {exc}. Only ref(), source(), config(), "
            "dbt.date_trunc() and the martsmith package's macros are allowed in generated models."
        ) from exc
    except jinja2.TemplateError as exc:
        raise JinjaCheckError(f"The SQL's Jinja is invalid: {exc}") from exc
