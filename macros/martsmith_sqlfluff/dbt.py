"""dbt's cross-database macros that martsmith-generated models call, as plain SQL for sqlfluff."""


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def current_timestamp():
    return "current_timestamp"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + ({interval}) * interval 1 {datepart})"


def type_string():
    # `string` parses as a type in every sqlfluff dialect martsmith targets (duckdb, postgres,
    # sparksql, ansi); `varchar` does not parse in sparksql.
    return "string"
