"""The offline planner's vocabulary: generic English and business words, never schema names.

Everything here is a small table that carries over to any schema: function words to skip,
cue phrases that shape the plan (aggregations, time grains, comparisons, negation, grouping),
and a short list of business synonyms that map a request word to the column-name words it may
stand for. Schema words (tables, columns, values) are linked by `linking.py`, not listed here.

>>> stem("completed") == stem("complete"), stem("shipped"), stem("categories")
(True, 'ship', 'category')
"""

from __future__ import annotations

import functools
import re

from martsmith.context.words import singular

# Function words: never linked to the schema, never reported as unplaced.
STOPWORDS = frozenset(
    """
    a an the of for with and or in on at to from into onto me us we i you my our your their its
    his her them they it this that these those there here show give list get find fetch see what
    which who whose whom is are was were be been being do does did have has had please only just
    all any some want need like would could can should will also as so then where whose
    table model report view dataset data overall together along broken down split grouped group
    values results result
    including include includes included metric metrics kpi kpis breakdown within vs versus
    up corresponding respective respectively much how
    """.split()  # 'up': the particle of phrasal verbs ("signed up", "picked up")
)

# Nouns about the output that are also common column words ('bike model', 'report date'):
# stopwords unless a span with them names a column exactly.
META_NOUNS = frozenset(
    {"table", "model", "report", "view", "data", "metric", "group", "type", "values", "results", "result"}
)

# Words that name "rows of the table" when counted: "number of rows", "count of records".
ROW_NOUNS = frozenset({"row", "rows", "record", "records", "entry", "entries"})

# Verbs that follow a measure and add nothing once the measure is linked ("quantity sold").
# They are ignored only if they do not link to the schema themselves.
FILLER_VERBS = frozenset(
    """
    sold bought purchased spent made generated earned received recorded booked happened
    occurred ordered placed paid issued created signed registered took taken take takes had got
    went gone done produced owns owned own teach teaches taught attended visited used using
    lent borrowed loaned rented watched produce produces operated operate come came comes depart
    departs departing departed arrive arrives arriving arrived conducted conduct offer offers offered
    listed belong belongs belonging showed shown show shows became become spoken speak speaks
    shared caused led lost ended awarded live lives lived work works worked get gets got having
    went through lasted weighing weighed weighs changed

        """.split()
)

# Aggregation cue phrases (lower-case token tuples), longest first when matched.
AGGREGATIONS: dict[tuple[str, ...], str] = {
    ("number", "of", "distinct"): "count_distinct",
    ("number", "of", "unique"): "count_distinct",
    ("count", "of", "distinct"): "count_distinct",
    ("count", "of", "unique"): "count_distinct",
    ("count", "distinct"): "count_distinct",
    ("how", "many", "distinct"): "count_distinct",
    ("how", "many", "unique"): "count_distinct",
    ("number", "of", "different"): "count_distinct",
    ("how", "many", "different"): "count_distinct",
    ("different",): "count_distinct",
    ("distinct",): "count_distinct",
    ("unique",): "count_distinct",
    ("number", "of"): "count",
    ("numbers", "of"): "count",
    ("count", "of"): "count",
    ("how", "many"): "count",
    ("count",): "count",
    ("counts",): "count",
    ("total", "number", "of"): "count",
    ("sum", "of"): "sum",
    ("sum",): "sum",
    ("total",): "sum",
    ("totals",): "sum",
    ("average",): "avg",
    ("avg",): "avg",
    ("mean",): "avg",
    ("min",): "min",
    ("minimum",): "min",
    ("lowest",): "min",
    ("smallest",): "min",
    ("earliest",): "min",
    ("max",): "max",
    ("maximum",): "max",
    ("highest",): "max",
    ("largest",): "max",
    ("biggest",): "max",
    ("latest",): "max",
    ("most", "recent"): "max",
    ("first",): "min",
    ("last",): "max",
}

# Aggregations the spec cannot express: a clear error beats a wrong model.
UNSUPPORTED = frozenset(
    """
    median percentile percentiles stddev deviation variance ratio ratios growth rolling ranking
    retention churn cohort lag lead share percent percentage
    """.split()
)

# Time grains: adjectives stand alone ("monthly"); nouns need a cue or a preceding column.
GRAIN_ADJECTIVES = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
}
_GRAIN_NOUN_WORDS: dict[str, str | None] = {
    "day": "day",
    "days": "day",
    "date": None,
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "quarter": "quarter",
    "quarters": "quarter",
    "year": "year",
    "years": "year",
}
GRAIN_NOUNS: dict[str, str] = {k: v for k, v in _GRAIN_NOUN_WORDS.items() if v}

# Phrases that introduce a group-by ("by country", "for each month").
GROUP_CUES: tuple[tuple[str, ...], ...] = (
    ("grouped", "by"),
    ("group", "by"),
    ("broken", "down", "by"),
    ("split", "by"),
    ("for", "each"),
    ("for", "every"),
    ("by",),
    ("per",),
    ("each",),
    ("every",),
    ("across",),
)

# Comparison phrases followed by a number.
COMPARISONS: dict[tuple[str, ...], str] = {
    ("no", "more", "than"): "<=",
    ("no", "less", "than"): ">=",
    ("more", "than"): ">",
    ("greater", "than"): ">",
    ("larger", "than"): ">",
    ("bigger", "than"): ">",
    ("higher", "than"): ">",
    ("over",): ">",
    ("above",): ">",
    ("exceeding",): ">",
    ("exceeds",): ">",
    ("at", "least"): ">=",
    ("minimum", "of"): ">=",
    ("less", "than"): "<",
    ("fewer", "than"): "<",
    ("lower", "than"): "<",
    ("smaller", "than"): "<",
    ("under",): "<",
    ("below",): "<",
    ("at", "most"): "<=",
    ("maximum", "of"): "<=",
    ("up", "to"): "<=",
    ("longer", "than"): ">",
    ("shorter", "than"): "<",
    ("older", "than"): ">",
    ("younger", "than"): "<",
    ("heavier", "than"): ">",
    ("lighter", "than"): "<",
    ("taller", "than"): ">",
    ("cheaper", "than"): "<",
    ("more", "expensive", "than"): ">",
    ("equal", "to"): "=",
    ("equals",): "=",
    ("exactly",): "=",
    (">",): ">",
    (">=",): ">=",
    ("<",): "<",
    ("<=",): "<=",
    ("=",): "=",
    ("!=",): "!=",
    ("<>",): "!=",
}
# The column a comparative implies ('older than 30' -> age), as SUPERLATIVES.
COMPARATIVE_IMPLIES = {
    "longer": ("duration", "length"),
    "shorter": ("duration", "length"),
    "older": ("age",),
    "younger": ("age",),
    "heavier": ("weight",),
    "lighter": ("weight",),
    "taller": ("height",),
    "cheaper": ("price", "cost", "fare", "fee"),
    "expensive": ("price", "cost", "fare", "fee"),
}
# Units after a compared number that say nothing about the column.
UNITS = frozenset({"dollars", "dollar", "usd", "eur", "euros", "euro", "gbp", "pounds", "units", "items"})

NEGATIONS: tuple[tuple[str, ...], ...] = (
    ("other", "than"),
    ("excluding",),
    ("exclude",),
    ("excludes",),
    ("except",),
    ("without",),
    ("never",),
    ("not",),
    ("non",),
    ("no",),
)

# Top/bottom N.
TOP_WORDS = {"top": "desc", "bottom": "asc"}
ORDER_WORDS = {
    "highest": "desc",
    "most": "desc",
    "largest": "desc",
    "biggest": "desc",
    "best": "desc",
    "lowest": "asc",
    "least": "asc",
    "smallest": "asc",
    "fewest": "asc",
    "worst": "asc",
}

# Ordering of a listing. A phrase ending in "by"/"of" takes the next column as the sort key;
# the others set the direction of the key named before them (or of the listed label when
# alphabetical). "alpha": the label column, ascending.
ORDER_KEY_CUES: dict[tuple[str, ...], str | None] = {
    ("ordered", "by"): None,
    ("order", "by"): None,
    ("sorted", "by"): None,
    ("sort", "by"): None,
    ("sorted", "on"): None,
    ("arranged", "by"): None,
    ("in", "ascending", "order", "of"): "asc",
    ("in", "descending", "order", "of"): "desc",
    ("in", "increasing", "order", "of"): "asc",
    ("in", "decreasing", "order", "of"): "desc",
    ("in", "order", "of"): None,
    ("ascending", "order", "of"): "asc",
    ("descending", "order", "of"): "desc",
}
ORDER_DIRECTION_CUES: dict[tuple[str, ...], str] = {
    ("in", "reverse", "alphabetical", "order"): "alpha_desc",
    ("in", "alphabetical", "order"): "alpha",
    ("in", "alphabetic", "order"): "alpha",
    ("alphabetical", "order"): "alpha",
    ("alphabetically",): "alpha",
    ("in", "ascending", "order"): "asc",
    ("in", "descending", "order"): "desc",
    ("in", "increasing", "order"): "asc",
    ("in", "decreasing", "order"): "desc",
    ("ascending", "order"): "asc",
    ("descending", "order"): "desc",
    ("ascending",): "asc",
    ("descending",): "desc",
    ("asc",): "asc",
    ("desc",): "desc",
    ("from", "high", "to", "low"): "desc",
    ("from", "low", "to", "high"): "asc",
    ("from", "highest", "to", "lowest"): "desc",
    ("from", "lowest", "to", "highest"): "asc",
    ("from", "largest", "to", "smallest"): "desc",
    ("from", "smallest", "to", "largest"): "asc",
    ("from", "most", "to", "least"): "desc",
    ("from", "least", "to", "most"): "asc",
}
# Superlatives: "the singer with the largest net worth" (order by the next column, one row),
# "the youngest singer" (a column the adjective implies, found by its name words).
# word -> (direction, implied column-name stems or ()); the second entry is the reading when only
# a date column fits (the youngest has the latest birth date).
SUPERLATIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "most": ("desc", ()),
    "least": ("asc", ()),
    "fewest": ("asc", ()),
    "youngest": ("asc", ("age",)),
    "oldest": ("desc", ("age",)),
    "longest": ("desc", ("duration", "length", "long")),
    "shortest": ("asc", ("duration", "length", "height")),
    "tallest": ("desc", ("height", "tall")),
    "heaviest": ("desc", ("weight", "heavy")),
    "lightest": ("asc", ("weight",)),
    "cheapest": ("asc", ("price", "cost", "fee", "fare")),
    "priciest": ("desc", ("price", "cost", "fee", "fare")),
    "richest": ("desc", ("worth", "wealth", "income", "earning")),
    "newest": ("desc", ()),
}
# Words that ask for distinct rows of a listing ("all distinct countries"); with a count word
# they count distinct values instead.
DISTINCT_WORDS = frozenset({"distinct", "different", "unique"})
# Units a column name may end in: 'duration_minutes' is the duration, 'distance_km' the distance.
UNIT_SUFFIXES = frozenset(
    """
    minutes minute mins min seconds second secs sec hours hour hrs hr days ms km kms miles mi meters
    metres m kg kgs lbs lb amount amt usd eur gbp pct percent millions million thousands thousand
    bn cents count num qty
    """.split()
)

# Window phrases over the aggregated rows (see cues._windows). "<grain>" stands for any grain
# noun, "<n>" for a number.
WINDOW_PHRASES: dict[tuple[str, ...], str] = {
    ("running", "total", "of"): "running_total",
    ("running", "total"): "running_total",
    ("running", "sum", "of"): "running_total",
    ("cumulative", "total", "of"): "running_total",
    ("cumulative", "sum", "of"): "running_total",
    ("cumulative",): "running_total",
    ("rank",): "rank",
    ("ranked",): "rank",
    ("percent", "change", "from", "the", "previous", "<grain>"): "percent_change",
    ("percentage", "change", "from", "the", "previous", "<grain>"): "percent_change",
    ("percent", "change", "from", "previous", "<grain>"): "percent_change",
    ("change", "from", "the", "previous", "<grain>"): "change",
    ("change", "from", "previous", "<grain>"): "change",
    ("change", "over", "the", "previous", "<grain>"): "change",
    ("difference", "from", "the", "previous", "<grain>"): "change",
    ("compared", "with", "the", "previous", "<grain>"): "change",
    ("compared", "to", "the", "previous", "<grain>"): "change",
    ("compared", "with", "the", "<grain>", "before"): "change",
    ("compared", "to", "the", "<grain>", "before"): "change",
    ("<grain>", "over", "<grain>", "change"): "change",
    ("<n>", "<grain>", "moving", "average", "of"): "moving_average",
    ("<n>", "<grain>", "rolling", "average", "of"): "moving_average",
    ("moving", "average", "over", "<n>", "<grain>", "of"): "moving_average",
}
# Pivot phrases: the next column's values become columns.
PIVOT_PHRASES: tuple[tuple[str, ...], ...] = (
    ("with", "one", "column", "per"),
    ("with", "a", "column", "per"),
    ("with", "one", "column", "for", "each"),
    ("with", "a", "column", "for", "each"),
    ("one", "column", "per"),
    ("a", "column", "per"),
    ("pivoted", "by"),
    ("pivot", "by"),
)
# Share phrases: the measure that follows, restricted by the conditions after it, over its total.
SHARE_PHRASES: dict[tuple[str, ...], bool] = {
    ("share", "of"): False,
    ("proportion", "of"): False,
    ("fraction", "of"): False,
    ("percentage", "of"): True,
    ("percent", "of"): True,
}

# Date cues followed by a date expression (see cues.parse_date).
DATE_RANGE_CUES = frozenset({"in", "during", "for", "on", "of", "within"})
DATE_FROM_CUES = frozenset({"since", "from", "starting"})
DATE_AFTER_CUES = frozenset({"after"})
DATE_BEFORE_CUES = frozenset({"before", "prior"})
DATE_UNTIL_CUES = frozenset({"until", "till", "through", "thru", "to"})
RELATIVE_WORDS = frozenset({"last", "past", "previous", "prior", "next", "trailing", "this", "current", "recent"})
RELATIVE_ALONE = frozenset({"yesterday", "today", "tomorrow", "ytd", "mtd", "qtd", "recently", "now"})

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}

# Column-name words that mark a point in time; a request says "date", "time" or "when".
TIME_MARKERS = frozenset({"at", "on", "date", "time", "ts", "timestamp", "dt", "datetime"})
TIME_WORDS = frozenset({"date", "dates", "time", "when", "timestamp"})
# Column-name words of bookkeeping timestamps: never the "main event" of a table.
BOOKKEEPING_TIME = frozenset(
    {"updated", "modified", "loaded", "synced", "ingested", "etl", "deleted", "changed", "extracted", "inserted"}
)
# Column-name words of key columns: never summed, never a "head word".
KEY_WORDS = frozenset({"id", "key", "sk", "pk", "fk", "uuid", "code"})
# Column-name words that make a good label for an entity ("product name").
LABEL_NAMES = ("name", "title", "label", "display_name", "full_name")

# The words of a star-schema request that shape the layout ("a sales star schema with order
# lines as the fact"): never linked to the schema, never reported as unplaced.
STAR_WORDS = frozenset(
    """
    star schema schemas snowflake fact facts dimension dimensions dim dims measure measures grain
    mart marts build create make generate using use by per layout kimball tables around based
    each one row rows key keys model models design
    """.split()
)
# Nouns after which a word names the marts area: "sales star", "finance mart".
AREA_NOUNS = frozenset({"star", "snowflake", "mart", "schema"})
# Words that ask a star schema for its date dimension.
CALENDAR_WORDS = frozenset({"date", "dates", "day", "days", "calendar", "time"})

# Generic business synonyms: request word (stem) -> column-name words (stems) it may mean,
# in order of preference. Kept small and domain-neutral. They name tables too: 'order lines'
# -> order_items.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "revenue": ("amount", "revenue", "sales", "total", "price", "value"),
    "sales": ("amount", "revenue", "sales", "total", "price"),
    "turnover": ("amount", "revenue", "sales", "total"),
    "income": ("amount", "revenue", "income", "total"),
    "spend": ("amount", "spend", "cost", "total"),
    "spending": ("amount", "spend", "cost", "total"),
    "money": ("amount", "total", "revenue"),
    "value": ("amount", "value", "total"),
    "price": ("price", "amount"),
    "cost": ("cost", "amount", "price"),
    "quantity": ("quantity", "qty", "units", "count"),
    "units": ("quantity", "qty", "units"),
    "volume": ("quantity", "qty", "units", "volume"),
    "customer": ("customer", "client", "user", "buyer"),
    "client": ("client", "customer", "account"),
    "user": ("user", "customer", "member", "account"),
    "buyer": ("buyer", "customer"),
    "account": ("account", "customer", "client"),
    "product": ("product", "item", "sku"),
    "item": ("item", "product"),
    "line": ("line", "item"),  # 'order lines' -> order_items
    "sku": ("sku", "product"),
    "category": ("category", "type", "group"),
    "type": ("type", "category", "kind"),
    "kind": ("kind", "type", "category"),
    "state": ("state", "status"),
    "status": ("status", "state"),
    "plan": ("plan", "tier"),
    "tier": ("tier", "plan", "level"),
    "employee": ("employee", "staff", "worker"),
    "staff": ("staff", "employee"),
    "salary": ("salary", "pay", "compensation", "wage"),
    "wage": ("wage", "salary", "pay"),
    "department": ("department", "dept", "team"),
    "country": ("country", "nation"),
    "nation": ("nation", "nationality", "country"),
    "region": ("region", "area"),
    "payment": ("payment", "pay"),
    "method": ("method", "type"),
    "signup": ("signup", "created", "registered", "joined"),
    "discount": ("discount", "rebate"),
    "length": ("length", "duration"),
    "duration": ("duration", "length"),
}


_IRREGULAR = {
    "paid": "pay",
    "sold": "sell",
    "bought": "buy",
    "spent": "spend",
    "made": "make",
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
}


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, deterministic stem: plural and -ed/-ing endings off, doubled consonant and
    trailing 'e' dropped, so 'completed'/'complete', 'shipped'/'ship', 'orders'/'ordered'
    meet. Same function on both sides (request and schema), so over-stemming is harmless."""
    w = word.lower()
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or not w.isalpha():
        return singular(w) if w.isalpha() else w
    w = singular(w)
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeious":
        w = w[:-1]
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]
    return w


SYNONYMS: dict[str, tuple[str, ...]] = {stem(k): tuple(dict.fromkeys(stem(x) for x in v)) for k, v in _SYNONYMS.items()}


def alternatives(word: str) -> dict[str, int]:
    """Stems a request word may stand for, with a rank (0 = the word itself, then synonyms in
    order of preference)."""
    own = stem(word)
    out = {own: 0}
    for i, alt in enumerate(SYNONYMS.get(own, ()), start=1):
        out.setdefault(alt, i)
    return out


def name_words(identifier: str) -> list[str]:
    """Words of an identifier: 'first_name' -> ['first', 'name'], 'orderDate' -> ['order', 'date']."""
    return list(_name_words(identifier))


@functools.lru_cache(maxsize=65536)
def _name_words(identifier: str) -> tuple[str, ...]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier)
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)
