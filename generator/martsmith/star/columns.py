"""The columns of every model a StarSpec makes, with their types: what the rendered SQL selects,
for the YAML, the ERD and the stand-in relations checks run against.

Both `star.render` and `star.erd` read them from here, so neither imports the other for them.

>>> [name for name, *_ in DATE_COLUMNS][:3]
['date_key', 'date_day', 'calendar_year']
"""

from __future__ import annotations

from martsmith.star.spec import StarSpec

# dim_date: (column, type, SQL over the `days` spine, description). What dialects spell differently
# goes through the package's dispatched macros (macros/cross_db/dates.sql).
DATE_COLUMNS = [
    (
        "date_key",
        "integer",
        "{{ martsmith.date_key('days.date_day') }}",
        "The date as yyyymmdd; -1 is the unknown date.",
    ),
    ("date_day", "date", "days.date_day", "The calendar day."),
    ("calendar_year", "bigint", "{{ martsmith.date_part('year', 'days.date_day') }}", "Year."),
    ("quarter_of_year", "bigint", "{{ martsmith.date_part('quarter', 'days.date_day') }}", "Quarter, 1-4."),
    ("month_of_year", "bigint", "{{ martsmith.date_part('month', 'days.date_day') }}", "Month, 1-12."),
    ("month_name", "varchar", "{{ martsmith.month_name('days.date_day') }}", "Month name, e.g. January."),
    ("week_of_year", "bigint", "{{ martsmith.date_part('week', 'days.date_day') }}", "ISO week number."),
    ("day_of_month", "bigint", "{{ martsmith.date_part('day', 'days.date_day') }}", "Day of the month."),
    (
        "day_of_week",
        "bigint",
        "{{ martsmith.iso_day_of_week('days.date_day') }}",
        "ISO day of week: 1 = Monday ... 7 = Sunday.",
    ),
    ("day_name", "varchar", "{{ martsmith.day_name('days.date_day') }}", "Day name, e.g. Monday."),
    ("is_weekend", "boolean", "{{ martsmith.iso_day_of_week('days.date_day') }} in (6, 7)", "Saturday or Sunday."),
]


def staged_types(star: StarSpec) -> dict[str, dict[str, str]]:
    """{staging model: {column: data type}}."""
    return {s.name: {c.name: c.data_type for c in s.columns} for s in star.staging}


def model_columns(star: StarSpec) -> dict[str, list[tuple[str, str]]]:
    """{model: [(column, data type)]} of every model the star makes, in the order rendered."""
    out: dict[str, list[tuple[str, str]]] = {}
    types = staged_types(star)
    for s in star.staging:
        out[s.name] = [(c.name, c.data_type) for c in s.columns]
    for d in star.dimensions:
        t = types.get(d.base, {})
        cols = [(d.surrogate_key, "varchar"), (d.natural_key, t.get(d.natural_key, "varchar"))]
        moved = {o.attribute: o for o in d.outriggers}
        for a in [] if d.distinct_of else d.attributes:
            cols.append(
                (moved[a].dimension.removeprefix("dim_") + "_key", "varchar")
                if a in moved
                else (a, t.get(a, "varchar"))
            )
        if d.scd_type == 2 and d.versioned_by:
            cols += [
                (d.versioned_by, t.get(d.versioned_by, "timestamp")),
                ("valid_from", "timestamp"),
                ("valid_to", "timestamp"),
                ("is_current", "boolean"),
            ]
        out[d.name] = cols
    if star.date_dimension:
        out[star.date_dimension.name] = [(n, t) for n, t, _, _ in DATE_COLUMNS]
    for f in star.facts:
        t = types.get(f.base, {})
        parent_types = {p.alias: types.get(p.base, {}) for p in f.parents} | {"fact": t}
        cols = [(f.surrogate_key, "varchar")] + [(c, t.get(c, "varchar")) for c in f.grain]
        for g in f.degenerate:
            if g.name not in dict(cols):
                cols.append((g.name, parent_types[g.input].get(g.column, "varchar")))
        cols += [(fk.name, "integer" if fk.role == "date" else "varchar") for fk in f.foreign_keys]
        cols += [(m.name, parent_types[m.input].get(m.column, "double")) for m in f.measures]
        out[f.name] = cols
    return out
