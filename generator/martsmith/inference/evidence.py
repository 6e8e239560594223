"""The evidence policy: how much the data (and the names) must say before a test is proposed.

A test inferred from data is a claim that the data will *keep* looking like this. A claim that
merely happens to hold today (20 rows that happen to be distinct) is noise that fails later, so
every rule below needs evidence from the name, from the data, or from both:

Keys
    `unique` + `not_null` on the primary key: a column named `id`, `<entity>_id`, `<entity>_key`
    (or the key the project already declares). The data is then checked: a duplicated key is a
    finding, not a test. A column that is unique in the data but not named as a key only gets
    `unique` when it looks like an identifier (`*_id`, `*_code`, `*_number`, `sku`, `uuid`...)
    and the table has at least `MIN_ROWS_UNIQUE` rows. A composite key (profile.key_candidates)
    gets `martsmith.unique_combination_of_columns` only when no single column is a key and the
    table has at least `MIN_ROWS_UNIQUE` rows.

not_null
    Only where the data has no nulls *and* the meaning says the value is required: key columns,
    foreign keys and event timestamps (`*_at`, `*_date`, `*_time`, `*_ts`) that record the row's
    own event (`created_at`, `ordered_at`). Timestamps of optional later events (`shipped_at`,
    `deleted_at`, `cancelled_at`, ...) are not required even when today they are never null.

accepted_values
    Low-cardinality categorical text: at least `MIN_ROWS_VALUES` rows, at most `MAX_VALUES`
    distinct values, each value repeated on average `MIN_REPEATS` times (rows / distinct), every
    observed value listed. Never on free text: names, emails, descriptions, addresses, urls, or
    strings longer than `MAX_CATEGORY_LENGTH`.

relationships
    For every foreign key of the table in the catalog (declared in the project, or inferred
    from `<entity>_id` naming). The containment is checked in the data: orphans are a finding.
    An *inferred* key whose orphans exceed `MAX_ORPHAN_SHARE` of its non-null values is not a
    foreign key at all: it is dropped, with a note.

Measures (the margin policy)
    `martsmith.not_negative` for numeric columns whose name says the value cannot be negative
    (amount, price, quantity, cost, total, count...). If negatives are a small share (at most
    `MAX_NEGATIVE_SHARE` of rows) they are a finding; more than that means the name misleads
    (e.g. signed adjustments) and no test is proposed.
    `martsmith.accepted_range` for other numeric measures with at least `MIN_ROWS_RANGE` rows:
    the observed [min, max] widened by `RANGE_MARGIN` x (max - min) on each side, the lower
    bound kept at 0 when no value is negative, then rounded outward to two significant
    digits. The bounds therefore always contain every observed value, and a drift of half the
    observed spread is tolerated before the test fails.
    A text column with a measure name (a number stored as text) gets
    `martsmith.expression_is_true` "= trim(col)": stray spaces break casts downstream.

Tables
    `martsmith.not_empty` on every non-empty table. `martsmith.recency` (severity warn: it
    depends on load schedules) on the table's own event timestamp with the latest value, when
    the table has at least `MIN_ROWS_RECENCY` rows: interval = max(`MIN_RECENCY_DAYS`,
    ceil(`RECENCY_CADENCES` x average gap between distinct timestamps)) days.
"""

from __future__ import annotations

import math
import re

from martsmith.context.catalog import entity_of

MIN_ROWS_UNIQUE = 100  # fewer rows: a unique column may be a coincidence
MIN_ROWS_VALUES = 50
MAX_VALUES = 15
MIN_REPEATS = 5  # rows / distinct values
MAX_CATEGORY_LENGTH = 40
MAX_ORPHAN_SHARE = 0.5
MAX_NEGATIVE_SHARE = 0.05
MIN_ROWS_RANGE = 100
RANGE_MARGIN = 0.5
MIN_ROWS_RECENCY = 20
MIN_RECENCY_DAYS = 2
RECENCY_CADENCES = 3
MAX_EXAMPLES = 5

IDENTIFIER_NAME = re.compile(r"(^|_)(id|key|sk|code|number|num|no|nr|sku|uuid|guid)$")
FREE_TEXT_NAME = re.compile(
    r"(^|_)(name|names|email|mail|description|desc|comment|comments|note|notes|address|street|"
    r"url|uri|link|phone|title|text|body|message|summary|bio|remark|remarks)$"
)
NON_NEGATIVE_NAME = re.compile(
    r"(^|_)(amount|amt|price|prices|cost|costs|quantity|qty|count|cnt|total|revenue|sales|fee|"
    r"fees|tax|weight|duration|age|units|spend|paid|subtotal|volume|size|cents|usd|eur)(_|$)"
    r"|^(n|num)_"
)
MEASURE_NAME = re.compile(
    NON_NEGATIVE_NAME.pattern + r"|(^|_)(rate|ratio|pct|percent|score|rating|discount|balance|"
    r"value|margin|profit|lat|latitude|lon|lng|longitude|temperature)(_|$)"
)
EVENT_TIME_NAME = re.compile(r"(_at|_date|_time|_ts|_timestamp|_on)$|^(date|timestamp|ts)$")
OPTIONAL_EVENT = re.compile(
    r"^(deleted|cancelled|canceled|shipped|delivered|closed|ended|returned|refunded|completed|"
    r"archived|expired|churned|resolved|fulfilled|confirmed|approved|rejected|last|first|"
    r"valid_to|end|finished|removed|disabled|deactivated|verified|processed)_"
)


def primary_key_names(table_name: str) -> list[str]:
    """Names that say "primary key" for a table: id, order_id, order_key... for orders."""
    ent = entity_of(table_name)
    return ["id", f"{ent}_id", f"{ent}_key", f"{ent}_sk", f"{ent}_uuid"]


def is_identifier_name(name: str) -> bool:
    return bool(IDENTIFIER_NAME.search(name.lower()))


def is_free_text_name(name: str) -> bool:
    return bool(FREE_TEXT_NAME.search(name.lower()))


def is_non_negative_name(name: str) -> bool:
    return bool(NON_NEGATIVE_NAME.search(name.lower()))


def is_measure_name(name: str) -> bool:
    return bool(MEASURE_NAME.search(name.lower()))


def is_event_time_name(name: str) -> bool:
    return bool(EVENT_TIME_NAME.search(name.lower()))


def is_required_event_time(name: str) -> bool:
    """`created_at`, `ordered_at`, `order_date`: yes. `shipped_at`, `deleted_at`: no."""
    n = name.lower()
    return is_event_time_name(n) and not OPTIONAL_EVENT.match(n)


def nice_bound(value: float, direction: str) -> float | int:
    """Round outward ('down' or 'up') to two significant digits.

    >>> nice_bound(1234.5, "up"), nice_bound(1234.5, "down"), nice_bound(-0.0123, "down")
    (1300, 1200, -0.013)
    >>> nice_bound(0, "down")
    0
    """
    if value == 0:
        return 0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    fn = math.floor if direction == "down" else math.ceil
    out = fn(round(value / step, 9)) * step
    if step >= 1:
        return int(round(out))
    digits = max(0, -int(math.floor(math.log10(step))))
    return round(out, digits)


def widened_range(lo: float, hi: float) -> tuple[float | int, float | int]:
    """The accepted_range bounds for observed [lo, hi] (see the module docstring).

    >>> widened_range(5, 105)
    (0, 160)
    >>> widened_range(-10, 10)
    (-20, 20)
    """
    span = hi - lo if hi > lo else abs(hi) or 1
    low = lo - RANGE_MARGIN * span
    if lo >= 0:
        low = max(0.0, low)
    high = hi + RANGE_MARGIN * span
    return nice_bound(low, "down"), nice_bound(high, "up")


def entity_words(table_name: str, n: int = 2) -> str:
    """'order items' / 'order item' for order_items, for messages."""
    words = entity_of(table_name).replace("_", " ")
    if n == 1:
        return words
    if words.endswith("y") and not words.endswith(("ay", "ey", "oy", "uy")):
        return words[:-1] + "ies"
    if words.endswith(("s", "x", "ch", "sh")):
        return words + "es"
    return words + "s"


def count_of(n: int, table_name: str) -> str:
    """'3 orders', '1 order item'."""
    return f"{n:,} {entity_words(table_name, n)}"
