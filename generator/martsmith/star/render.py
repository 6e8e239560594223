"""StarSpec -> files: dbt-style SQL (import CTEs, logical CTEs, `select * from final`) and one
YAML per model, deterministically. Paths are relative to the project's model path.

Every dimension has an unknown member (key = surrogate_key of a null natural key; -1 for
dim_date) and every fact key is coalesced to it, so a missing dimension value never breaks a
`relationships` test.

The layout (CTEs, select lists wrapped under the line length, the dedupe import, the final
select) is render/sql.py's, the same as every model's. What dialects spell differently (the
dedupe, date keys, day and month names) goes through the package's dispatched macros.
"""

from __future__ import annotations

from typing import Any

from martsmith import __version__
from martsmith.render.properties import dump_yaml, render_test
from martsmith.render.sql import INDENT as I
from martsmith.render.sql import MAX_LINE, cte, deduplicate, import_cte, jinja_ref, jinja_source, model_sql, select
from martsmith.spec import TestSpec
from martsmith.star.columns import DATE_COLUMNS, model_columns, staged_types
from martsmith.star.erd import erd_markdown
from martsmith.star.scd2 import VALID_FROM_START, VALID_TO_END
from martsmith.star.spec import (
    UNKNOWN_DATE_KEY,
    DateDimension,
    StagingSpec,
    StarDimension,
    StarFact,
    StarSpec,
)

UNKNOWN_KEY = "{{ martsmith.surrogate_key(['null']) }}"


def _coalesce(value: str, default: str, alias: str) -> str:
    """`coalesce(value, default) as alias`, one select item, wrapped the way sqlfluff's layout
    fix would when it is longer than the default max_line_length (100): so linting needs no fix
    (and no second pass)."""
    one = f"coalesce({value}, {default}) as {alias}"
    if len(I * 2 + one + ",") <= MAX_LINE:
        return one
    return f"coalesce(\n{I * 3}{value}, {default}\n{I * 2}) as {alias}"


def _alias_of(model: str) -> str:
    return model.split("__", 1)[-1]


def _stage_expr(c) -> str:
    src = c.source_column
    if c.transform == "trim_lower":
        return f"lower(trim({src}))"
    if c.transform == "trim":
        return f"trim({src})"
    if c.transform == "cast_number":
        return f"cast(trim({src}) as {sql_type(c.data_type)})"
    if c.transform == "cast_timestamp":
        return f"cast({src} as timestamp)"
    return src


def render_staging(s: StagingSpec) -> str:
    items = []
    for c in s.columns:
        expr = _stage_expr(c)
        items.append(expr if expr == c.name else f"{expr} as {c.name}")
    body = select(items, distinct=s.dedupe and s.keep_versions) + f"\n{I}from source"
    if s.dedupe and s.keep_versions:
        key = next(c.source_column for c in s.columns if c.name == s.key)
        body += (
            f"\n{I}-- several rows per {key} (late-arriving updates): every version is kept for a"
            f"\n{I}-- type-2 dimension; exact duplicate rows are dropped"
        )
    source = jinja_source(s.source_name, s.table)
    imported = import_cte("source", source)
    if s.dedupe and not s.keep_versions:
        key = next(c.source_column for c in s.columns if c.name == s.key)
        order = next(c.source_column for c in s.columns if c.name == s.dedupe_order_by)
        imported = cte("source", deduplicate(source, [key], order))
        body += f"\n{I}-- several rows per {key} (late-arriving updates): the source keeps the latest"
    return model_sql([imported, cte("renamed", body)], "renamed")


TEXT_TYPES = ("varchar", "text", "string", "char", "character varying", "bpchar")


def sql_type(data_type: str) -> str:
    """A column type as generated SQL spells it: text through dbt's `type_string()` (Spark
    refuses a `varchar` without a length, Postgres calls it text), others as the catalog names
    them.

    >>> sql_type("VARCHAR"), sql_type("decimal(18,2)")
    ('{{ dbt.type_string() }}', 'decimal(18, 2)')
    """
    if data_type.lower().split("(")[0].strip() in TEXT_TYPES:
        return "{{ dbt.type_string() }}"
    return data_type.replace(",", ", ").replace(",  ", ", ")


def _members(d: StarDimension, base: str, types: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """(select items of a known member, of the unknown member, joins to outriggers)."""
    moved = {o.attribute: o for o in d.outriggers}
    known = [f"{base}.{d.natural_key}"]
    unknown = [f"cast(null as {sql_type(types.get(d.natural_key, 'varchar'))}) as {d.natural_key}"]
    joins = []
    for a in d.attributes:
        if a in moved:
            o = moved[a]
            key = o.dimension.removeprefix("dim_") + "_key"
            known.append(_coalesce(f"{o.dimension}.{key}", UNKNOWN_KEY, key))
            unknown.append(f"{UNKNOWN_KEY} as {key}")
            joins.append(f"{I}left join {o.dimension}\n{I}{I}on {base}.{a} = {o.dimension}.{a}")
        else:
            known.append(f"{base}.{a}")
            unknown.append(f"cast(null as {sql_type(types.get(a, 'varchar'))}) as {a}")
    return known, unknown, joins


def _unknown_member(d: StarDimension, items: list[str]) -> str:
    return f"\n\n{I}union all\n\n{I}-- the unknown member: facts point here when the {d.entity} is missing\n" + select(
        items
    )


def render_dimension(d: StarDimension, star: StarSpec) -> str:
    base = _alias_of(d.base)
    types = staged_types(star).get(d.base, {})
    ctes = [import_cte(base, jinja_ref(d.base))]
    if d.distinct_of:
        rows = f"{d.entity}_values"
        ctes.append(
            cte(
                rows,
                f"{I}select distinct {base}.{d.distinct_of}\n{I}from {base}\n{I}where {base}.{d.distinct_of} is not null",
            )
        )
        known = [
            f"{{{{ martsmith.surrogate_key(['{rows}.{d.natural_key}']) }}}} as {d.surrogate_key}",
            f"{rows}.{d.natural_key}",
        ]
        body = select(known) + f"\n{I}from {rows}"
        unknown = [
            f"{UNKNOWN_KEY} as {d.surrogate_key}",
            f"cast(null as {sql_type(types.get(d.natural_key, 'varchar'))}) as {d.natural_key}",
        ]
    elif d.scd_type == 2:
        return render_type2_dimension(d, star)
    else:
        for o in d.outriggers:
            ctes.append(import_cte(o.dimension, jinja_ref(o.dimension)))
        known, unknown, joins = _members(d, base, types)
        known.insert(0, f"{{{{ martsmith.surrogate_key(['{base}.{d.natural_key}']) }}}} as {d.surrogate_key}")
        unknown.insert(0, f"{UNKNOWN_KEY} as {d.surrogate_key}")
        body = select(known) + f"\n{I}from {base}" + ("\n" + "\n".join(joins) if joins else "")
        body += f"\n{I}where {base}.{d.natural_key} is not null"
    body += _unknown_member(d, unknown)
    ctes.append(cte("final", body))
    return model_sql(ctes)


def render_type2_dimension(d: StarDimension, star: StarSpec) -> str:
    """One row per version (martsmith.star.scd2): the base's rows dated by `versioned_by`,
    windowed into valid_from / valid_to / is_current."""
    base = _alias_of(d.base)
    types = staged_types(star).get(d.base, {})
    at = d.versioned_by
    if at is None:  # StarDimension's validator requires it for scd_type=2
        raise ValueError(f"{d.name}: a type-2 dimension needs versioned_by")
    ctes = [import_cte(base, jinja_ref(d.base))] + [
        import_cte(o.dimension, jinja_ref(o.dimension)) for o in d.outriggers
    ]
    known, unknown, joins = _members(d, base, types)
    versions = known + [
        f"{base}.{at}",
        (
            f"-- the first version holds since the start: older facts find it too\n{I}{I}case\n"
            f"{I}{I}{I}when row_number() over history = 1\n"
            f"{I}{I}{I}{I}then cast('{VALID_FROM_START}' as timestamp)\n"
            f"{I}{I}{I}else {base}.{at}\n{I}{I}end as valid_from"
        ),
        (
            f"coalesce(\n{I}{I}{I}lead({base}.{at}) over history,\n"
            f"{I}{I}{I}cast('{VALID_TO_END}' as timestamp)\n{I}{I}) as valid_to"
        ),
        f"lead({base}.{at}) over history is null as is_current",
    ]
    body = select(versions) + f"\n{I}from {base}" + ("\n" + "\n".join(joins) if joins else "")
    body += f"\n{I}where {base}.{d.natural_key} is not null"
    body += f"\n{I}window history as (partition by {base}.{d.natural_key} order by {base}.{at})"
    ctes.append(cte("versions", body))
    cols = [c for c, _ in model_columns(star)[d.name][1:]]
    key = f"{{{{ martsmith.surrogate_key(['versions.{d.natural_key}', 'versions.valid_from']) }}}}"
    # laid out as sqlfluff's layout fix would when too long (no second lint pass)
    key += (
        f" as {d.surrogate_key}"
        if len(I * 2 + key + f" as {d.surrogate_key},") <= MAX_LINE
        else f"\n{I * 3}as {d.surrogate_key}"
    )
    unknown = [
        f"{UNKNOWN_KEY} as {d.surrogate_key}",
        *unknown,
        f"cast(null as {sql_type(types.get(at, 'timestamp'))}) as {at}",
        f"cast('{VALID_FROM_START}' as timestamp) as valid_from",
        f"cast('{VALID_TO_END}' as timestamp) as valid_to",
        "true as is_current",
    ]
    body = select([key] + [f"versions.{c}" for c in cols]) + f"\n{I}from versions" + _unknown_member(d, unknown)
    ctes.append(cte("final", body))
    return model_sql(ctes)


def render_date_dimension(dd: DateDimension) -> str:
    spine = f"{I}{{{{ martsmith.date_spine('{dd.start_date}', '{dd.end_date}') }}}}"
    known = [f"{expr} as {name}" if expr != f"days.{name}" else expr for name, _, expr, _ in DATE_COLUMNS]
    unknown = [f"{UNKNOWN_DATE_KEY} as date_key"] + [
        f"cast(null as {sql_type(dtype)}) as {name}" for name, dtype, _, _ in DATE_COLUMNS[1:]
    ]
    body = (
        select(known) + f"\n{I}from days\n\n{I}union all\n\n"
        f"{I}-- the unknown date: facts point here when a date is missing\n" + select(unknown)
    )
    return model_sql([cte("days", spine), cte("final", body)])


def render_fact(f: StarFact, star: StarSpec) -> str:
    fact = _alias_of(f.base)
    alias = {"fact": fact} | {p.alias: p.alias for p in f.parents}
    ctes = [import_cte(fact, jinja_ref(f.base))] + [import_cte(p.alias, jinja_ref(p.base)) for p in f.parents]
    dims = {d.name: d for d in star.dimensions}
    for name in dict.fromkeys(fk.dimension for fk in f.foreign_keys if fk.role == "entity"):
        ctes.append(import_cte(name, jinja_ref(name)))
    items = [f"{alias['fact']}.{c}" for c in f.grain]
    for g in f.degenerate:
        col = f"{alias[g.input]}.{g.column}"
        item = col if g.name == g.column else f"{col} as {g.name}"
        if item not in items and col not in items:
            items.append(item)
    joins = [f"{I}left join {p.alias}\n{I}{I}on {fact}.{p.fact_column} = {p.alias}.{p.parent_key}" for p in f.parents]
    for fk in f.foreign_keys:
        src = f"{alias[fk.input]}.{fk.column}"
        if fk.role == "date":
            items.append(_coalesce(f"{{{{ martsmith.date_key('{src}') }}}}", str(UNKNOWN_DATE_KEY), fk.name))
        else:
            d = dims[fk.dimension]
            items.append(_coalesce(f"{d.name}.{d.surrogate_key}", UNKNOWN_KEY, fk.name))
            on = f"{I}left join {d.name}\n{I}{I}on {src} = {d.name}.{d.natural_key}"
            if d.scd_type == 2 and fk.as_of is not None:
                # the version valid when the event happened
                at = f"{alias[fk.as_of.input]}.{fk.as_of.column}"
                on += f"\n{I * 3}and {at} >= {d.name}.valid_from\n{I * 3}and {at} < {d.name}.valid_to"
            joins.append(on)
    for m in f.measures:
        items.append(f"{alias[m.input]}.{m.column}" + (f" as {m.name}" if m.name != m.column else ""))
    joined = select(items) + f"\n{I}from {fact}\n" + "\n".join(joins)
    ctes.append(cte("joined", joined.rstrip()))
    grain = ", ".join(f"'joined.{c}'" for c in f.grain)
    final = (
        select([f"{{{{ martsmith.surrogate_key([{grain}]) }}}} as {f.surrogate_key}", "joined.*"]) + f"\n{I}from joined"
    )
    ctes.append(cte("final", final))
    return model_sql(ctes)


# -- YAML -------------------------------------------------------------------------------------


def _model_yaml(
    name: str,
    description: str,
    materialized: str,
    star: StarSpec,
    columns: list[dict],
    grain: list[str],
    tests: list | None = None,
) -> str:
    meta: dict[str, Any] = {"request": star.request, "planner": star.planner, "version": __version__, "grain": grain}
    model: dict[str, Any] = {
        "name": name,
        "description": description,
        "config": {"materialized": materialized, "meta": {"martsmith": meta}},
    }
    if tests:
        model["data_tests"] = tests
    model["columns"] = columns
    return dump_yaml({"version": 2, "models": [model]})


def _unique_combination(columns: list[str]) -> dict:
    return {"martsmith.unique_combination_of_columns": {"arguments": {"combination_of_columns": columns}}}


def _pk(name: str, description: str) -> dict:
    return {"name": name, "description": description, "data_tests": ["unique", "not_null"]}


def _relationship(column: str, description: str, dim: str, key: str) -> dict:
    return {
        "name": column,
        "description": description,
        "data_tests": ["not_null", {"relationships": {"arguments": {"to": f"ref('{dim}')", "field": key}}}],
    }


def staging_yaml(s: StagingSpec, star: StarSpec) -> str:
    if s.dedupe and s.keep_versions and s.dedupe_order_by:
        return _versions_yaml(s, star)
    dedupe = f" Keeps the latest row per {s.key} by {s.dedupe_order_by}." if s.dedupe else ""
    cols = [_pk(s.key, f"Key of the {s.table} row.")] + _cleaned(s)
    grain = f"One row per {s.key}: {s.source_name}.{s.table}, renamed and cleaned.{dedupe}"
    return _model_yaml(s.name, grain, "view", star, cols, [s.key])


def _versions_yaml(s: StagingSpec, star: StarSpec) -> str:
    """A staging model keeping every version of a key (for a type-2 dimension)."""
    at = s.dedupe_order_by or ""
    cols: list[dict] = [
        {
            "name": s.key,
            "description": f"Key of the {s.table} row; several rows (versions) per key.",
            "data_tests": ["not_null"],
        },
        {"name": at, "description": "When this version was recorded: dates the versions of a key."},
        *_cleaned(s),
    ]
    return _model_yaml(
        s.name,
        f"One row per {s.key} and {at} (every version): {s.source_name}.{s.table}, renamed "
        "and cleaned. Exact duplicate rows are dropped.",
        "view",
        star,
        cols,
        [s.key, at],
        tests=[_unique_combination([s.key, at])],
    )


def _cleaned(s: StagingSpec) -> list[dict]:
    cols = []
    for c in s.columns:
        if c.name != s.key and c.transform != "none":
            how = {
                "trim_lower": "trimmed and lower-cased",
                "cast_number": f"cast from text to {c.data_type}",
                "trim": "trimmed",
                "cast_timestamp": "cast to timestamp",
            }[c.transform]
            cols.append({"name": c.name, "description": f"{c.source_column}, {how}."})
    return cols


def dimension_yaml(d: StarDimension, star: StarSpec) -> str:
    if d.scd_type == 2:
        return _type2_yaml(d, star)
    cols = [
        _pk(
            d.surrogate_key,
            f"Surrogate key of {d.natural_key} (martsmith.surrogate_key); the unknown member's is the key of null.",
        ),
        {"name": d.natural_key, "description": "Natural key; null on the unknown member.", "data_tests": ["unique"]},
    ]
    for o in d.outriggers:
        key = o.dimension.removeprefix("dim_") + "_key"
        cols.append(_relationship(key, f"The {o.attribute} ({o.dimension}).", o.dimension, key))
    scd = "" if d.distinct_of else " SCD type 1: the latest values."
    grain = f"One row per {d.entity} ({d.natural_key}), plus one unknown member.{scd}"
    return _model_yaml(d.name, grain, "table", star, cols, [d.surrogate_key])


def _type2_yaml(d: StarDimension, star: StarSpec) -> str:
    cols = [
        _pk(
            d.surrogate_key,
            f"Surrogate key of the version: {d.natural_key} and valid_from (martsmith.surrogate_key); "
            "the unknown member's is the key of null.",
        ),
        {
            "name": d.natural_key,
            "description": "Natural key, one row per version; null on the unknown member. At "
            "most one current row per key.",
            "data_tests": [{"unique": {"config": {"where": "is_current"}}}],
        },
    ]
    for o in d.outriggers:
        key = o.dimension.removeprefix("dim_") + "_key"
        cols.append(_relationship(key, f"The {o.attribute} ({o.dimension}).", o.dimension, key))
    cols += [
        {"name": d.versioned_by, "description": "When this version was recorded in the source."},
        {
            "name": "valid_from",
            "description": f"Start of the version's validity (inclusive): its {d.versioned_by}; "
            f"{VALID_FROM_START} for the first version of a key.",
            "data_tests": ["not_null"],
        },
        {
            "name": "valid_to",
            "description": f"End of the validity (exclusive): the next version's {d.versioned_by}; "
            f"{VALID_TO_END} for the current version.",
            "data_tests": ["not_null"],
        },
        {"name": "is_current", "description": "The latest version of the key.", "data_tests": ["not_null"]},
    ]
    return _model_yaml(
        d.name,
        f"One row per version of a {d.entity} ({d.natural_key}, valid_from), plus one unknown "
        f"member. SCD type 2: the versions in the data, dated by {d.versioned_by}.",
        "table",
        star,
        cols,
        [d.natural_key, "valid_from"],
        tests=[_unique_combination([d.natural_key, "valid_from"])],
    )


def date_yaml(dd: DateDimension, star: StarSpec) -> str:
    cols = [_pk("date_key", DATE_COLUMNS[0][3])] + [
        {"name": n, "description": desc} for n, _, _, desc in DATE_COLUMNS[1:]
    ]
    return _model_yaml(
        dd.name,
        f"One row per day from {dd.start_date} to {dd.end_date} (exclusive), plus the unknown date -1.",
        "table",
        star,
        cols,
        ["date_key"],
    )


def fact_yaml(f: StarFact, star: StarSpec) -> str:
    dims = {d.name: d for d in star.dimensions}
    cols = [_pk(f.surrogate_key, f"Surrogate key of the grain ({', '.join(f.grain)}).")]
    for fk in f.foreign_keys:
        key = "date_key" if fk.role == "date" else dims[fk.dimension].surrogate_key
        what = f"{fk.column} of {f.process if fk.input == 'fact' else fk.input}"
        cols.append(
            _relationship(fk.name, f"{fk.dimension} by {what}; the unknown member when missing.", fk.dimension, key)
        )
    for m in f.measures:
        entry: dict[str, Any] = {"name": m.name, "description": f"{m.additivity.replace('_', '-')} measure."}
        tests = list(m.tests)
        if m.not_negative and not any(t.name == "martsmith.not_negative" for t in tests):
            tests.append(TestSpec(name="martsmith.not_negative", column=m.name))
        if tests:
            entry["data_tests"] = [render_test(t) for t in tests]
        cols.append(entry)
    return _model_yaml(
        f.name,
        f"One row per {f.process} row ({', '.join(f.grain)}): the {f.process} business process.",
        "table",
        star,
        cols,
        f.grain,
    )


def render_star(star: StarSpec) -> dict[str, str]:
    """{path relative to the model path: text}: SQL + YAML per model, and the ERD."""
    marts = f"marts/{star.area}"
    files: dict[str, str] = {}
    for s in star.staging:
        if not s.existing:
            folder = f"staging/{s.source_name}"
            files[f"{folder}/{s.name}.sql"] = render_staging(s)
            files[f"{folder}/{s.name}.yml"] = staging_yaml(s, star)
    for d in star.dimensions:
        files[f"{marts}/{d.name}.sql"] = render_dimension(d, star)
        files[f"{marts}/{d.name}.yml"] = dimension_yaml(d, star)
    if star.date_dimension:
        dd = star.date_dimension
        files[f"{marts}/{dd.name}.sql"] = render_date_dimension(dd)
        files[f"{marts}/{dd.name}.yml"] = date_yaml(dd, star)
    for f in star.facts:
        files[f"{marts}/{f.name}.sql"] = render_fact(f, star)
        files[f"{marts}/{f.name}.yml"] = fact_yaml(f, star)
    files[f"{marts}/_{star.area}__erd.md"] = erd_markdown(star)
    return files
