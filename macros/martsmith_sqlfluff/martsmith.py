"""`martsmith.*` as plain SQL for sqlfluff (see __init__.py); the same SQL martsmith's own checks use."""

import re


def surrogate_key(fields):
    """md5 of the fields with nulls made explicit, as macros/sql/surrogate_key.sql builds it."""
    parts = " || '-' || ".join(f"coalesce(cast({f} as varchar), '_martsmith_null_')" for f in fields)
    return "md5(" + (parts or "''") + ")"


def _date_expression(value):
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(value)):
        return f"cast('{value}' as date)"
    return f"cast({value} as date)"


def date_spine(start_date, end_date):
    """One row per day in [start, end), column `date_day`."""
    return (
        f"select cast(unnest(range({_date_expression(start_date)}, {_date_expression(end_date)}, "
        "interval 1 day)) as date) as date_day"
    )


# The portable implementations the package's own example models call directly.
default__surrogate_key = surrogate_key
default__date_spine = date_spine
