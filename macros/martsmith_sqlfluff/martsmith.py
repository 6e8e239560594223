"""`martsmith.*` as plain SQL for sqlfluff (see __init__.py); the same SQL martsmith's own checks use."""

import re


def surrogate_key(fields):
    """md5 of the fields with nulls made explicit, as macros/sql/surrogate_key.sql builds it.
    Each field becomes text by `|| ''`, not a cast: no one type name parses in every sqlfluff
    dialect (`varchar` fails in sparksql and bigquery, `string` in trino), and `|| ''` keeps a
    null null (concat() would not), so null and '' still differ."""
    parts = " || '-' || ".join(f"coalesce({f} || '', '_martsmith_null_')" for f in fields)
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


def deduplicate(relation, partition_by, order_by):
    """One row per partition_by with the relation's columns; a form every sqlfluff dialect parses
    (the package's DuckDB `qualify` and Postgres `distinct on` do not parse in each other's)."""
    return (
        f"select * from (select *, row_number() over (partition by {partition_by} order by {order_by}) "
        f"as _martsmith_row from {relation}) as ranked where ranked._martsmith_row = 1"
    )


# Date parts and names (macros/cross_db/dates.sql), as plain function calls any dialect parses.
def date_key(date):
    return f"cast(to_char({date}, 'YYYYMMDD') as integer)"


def date_part(datepart, date):
    return f"cast(extract({datepart} from {date}) as bigint)"


def iso_day_of_week(date):
    return f"isodow({date})"


def day_name(date):
    return f"dayname({date})"


def month_name(date):
    return f"monthname({date})"


# The portable implementations the package's own example models call directly.
default__surrogate_key = surrogate_key
default__date_spine = date_spine
