"""What the llm planner tells the model: a pruned schema context and the JSON contract.

The context holds only the tables that matter to the request (word overlap with table and column
names, descriptions and low-cardinality values, plus their foreign-key neighbours), capped in size,
so that a catalog of hundreds of tables still fits a small prompt. The contract is the JSON Schema
of `ModelSpec` minus the fields the tool fills itself.

>>> from martsmith.context.catalog import Catalog, Column, Table
>>> orders = Table("source", "orders", "raw", "orders", source_name="shop",
...                columns=[Column("order_id", "INTEGER"), Column("amount", "DOUBLE")])
>>> users = Table("source", "users", "raw", "users", source_name="shop",
...               columns=[Column("user_id", "INTEGER")])
>>> [t.name for t in relevant_tables("total amount of orders", Catalog(tables=[orders, users]))]
['orders']
"""

from __future__ import annotations

import copy
import json
import re

from martsmith.context.catalog import Catalog, Table, entity_of, singular
from martsmith.spec import ModelSpec

MAX_TABLES = 8  # tables chosen for their words ...
MAX_NEIGHBOURS = 4  # ... plus this many joined to them by a foreign key
MAX_COLUMNS = 60  # columns shown per table
MAX_CONTEXT_CHARS = 16_000  # the whole schema context, about 4k tokens
TOOL_FIELDS = ("request", "planner", "tests")  # filled by martsmith, not by the model

STOPWORDS = frozenset(
    """a an the of by per for to in on at and or with without from into each every all any
    me my our show give get list find compute calculate what which who how many much is are be
    was were that this these those as than then it its their there where when over under
    between only also not no new model table tables column columns data number""".split()
)

SYSTEM_PROMPT = """\
You design one dbt model for an analytics engineer. You answer with ONE JSON object that follows \
the JSON Schema below, and nothing else: no prose, no markdown.

Rules:
- Use the structured fields (inputs, joins, dimensions, measures, filters, order_by, limit) \
whenever they can express the request.
- Only when the structure cannot express it (window functions, CASE logic, set operations, \
subqueries...), fill `sql_body` with a single SELECT statement (CTEs allowed) that reads tables \
only through {{{{ ref('model') }}}} or {{{{ source('source_name', 'table') }}}}: no other Jinja, \
no DDL or DML, no file or network functions, no trailing semicolon. Leave dimensions and measures \
empty then.
- Use only the tables and columns listed in the schema context, spelled exactly as listed. \
An input of kind "source" needs `source_name` and `table`; kind "ref" needs `table` (the model name).
- The alias of an input is its table name (e.g. "orders"); joins, dimensions, measures and \
filters refer to inputs by that alias.
- `name` is a lowercase identifier (letters, digits, underscores; no paths, dots or spaces), \
e.g. "revenue_by_country".
- `description` states the grain first: "One row per <grain>." then what the model holds; \
`grain` lists the output columns that identify a row.
- Record choices you had to make (ambiguities, assumptions) in `notes`.

JSON Schema of the answer:
{schema}
"""

REPAIR_PROMPT = """\
Your answer was not accepted:
{errors}
Fix these problems and reply again with the complete corrected JSON object only."""


def words(text: str) -> set[str]:
    """Lower-case singular words of a text, without stopwords; identifiers split on `_`.

    >>> sorted(words("Revenue by customer_country for shipped Orders"))
    ['country', 'customer', 'order', 'revenue', 'shipped']
    """
    raw = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    return {singular(w) for w in raw if w not in STOPWORDS and len(w) > 1}


def _score(request_words: set[str], table: Table) -> float:
    """Weighted overlap: a word in the table's name counts most, then columns and values, then
    free-text descriptions."""
    score = 3.0 * len(request_words & (words(table.name) | {entity_of(table.name)}))
    score += 1.0 * len(request_words & words(table.description))
    for col in table.columns:
        score += 2.0 * len(request_words & words(col.name))
        score += 0.5 * len(request_words & words(col.description))
        if col.values:
            score += 2.0 * len(request_words & words(" ".join(col.values)))
    return score


def relevant_tables(
    request: str, catalog: Catalog, *, max_tables: int = MAX_TABLES, max_neighbours: int = MAX_NEIGHBOURS
) -> list[Table]:
    """The catalog's tables worth showing for `request`, most relevant first.

    Tables whose words overlap the request's, then tables joined to those by a foreign key. When
    nothing overlaps, the first `max_tables` tables (the model may still make sense of them).
    """
    req = words(request)
    scored = [(_score(req, t), i, t) for i, t in enumerate(catalog.tables)]
    hits = [t for s, _, t in sorted(scored, key=lambda x: (-x[0], x[1])) if s > 0][:max_tables]
    if not hits:
        return catalog.tables[:max_tables]
    chosen = {t.label for t in hits}
    neighbours: list[Table] = []
    for fk in catalog.foreign_keys:
        for here, there in ((fk.table, fk.ref_table), (fk.ref_table, fk.table)):
            if here in chosen and there not in chosen and len(neighbours) < max_neighbours:
                table = catalog.table(there)
                if table is not None:
                    neighbours.append(table)
                    chosen.add(there)
    return hits + neighbours


def _input_hint(table: Table) -> str:
    if table.kind == "source":
        return json.dumps({"kind": "source", "source_name": table.source_name, "table": table.name})
    return json.dumps({"kind": "ref", "table": table.name})


def describe_table(table: Table, catalog: Catalog, *, max_columns: int = MAX_COLUMNS) -> str:
    """One table as the model sees it: dbt identity, the input to use, keys, columns."""
    head = f"## {table.jinja().strip('{} ')}"
    facts = [f"{table.row_count:,} rows" if table.row_count is not None else "", table.description.strip()]
    lines = [head + (" -- " + ". ".join(f for f in facts if f) if any(facts) else "")]
    lines.append(f"input: {_input_hint(table)}")
    if table.primary_key:
        unique = "" if table.primary_key_unique is not False else " (NOT unique in the data)"
        lines.append(f"primary key: {table.primary_key}{unique}")
    fks = [fk for fk in catalog.foreign_keys if fk.table == table.label]
    for fk in fks:
        target = catalog.table(fk.ref_table)
        shown = target.jinja().strip("{} ") if target else fk.ref_table
        lines.append(f"foreign key: {fk.column} -> {shown}.{fk.ref_column}")
    lines.append("columns:")
    for col in table.columns[:max_columns]:
        line = f"- {col.name} {col.data_type or 'unknown'}".rstrip()
        if col.description:
            line += f" -- {col.description.strip()}"
        if col.values:
            line += " values: " + ", ".join(repr(v) for v in col.values)
        if col.null_count and table.row_count:
            line += f" ({col.null_count / table.row_count:.0%} null)"
        lines.append(line)
    if len(table.columns) > max_columns:
        lines.append(f"- ... and {len(table.columns) - max_columns} more columns")
    return "\n".join(lines)


def schema_context(request: str, catalog: Catalog, *, max_chars: int = MAX_CONTEXT_CHARS) -> str:
    """The pruned schema for `request`: relevant tables only, at most `max_chars` characters."""
    tables = relevant_tables(request, catalog)
    blocks: list[str] = []
    size = 0
    for table in tables:
        block = describe_table(table, catalog)
        if blocks and size + len(block) > max_chars:
            break  # the rest are less relevant; the first table is always shown
        blocks.append(block)
        size += len(block) + 2
    omitted = len(catalog.tables) - len(blocks)
    if omitted > 0:
        blocks.append(f"({omitted} other tables are not shown: they do not match the request.)")
    return "\n\n".join(blocks) if blocks else "(the catalog is empty)"


def answer_schema() -> dict:
    """JSON Schema of `ModelSpec` without the fields martsmith fills itself."""
    schema = copy.deepcopy(ModelSpec.model_json_schema())
    for name in TOOL_FIELDS:
        schema["properties"].pop(name, None)
    schema["required"] = [r for r in schema.get("required", []) if r not in TOOL_FIELDS]
    for name in list(schema.get("$defs", {})):
        if f'"#/$defs/{name}"' not in json.dumps(schema):  # TestSpec: only `tests` used it
            del schema["$defs"][name]
    return _without_titles(schema)


def _without_titles(node):
    """Pydantic's generated titles repeat the field names: drop them to save prompt tokens."""
    if isinstance(node, dict):
        return {k: _without_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_without_titles(v) for v in node]
    return node


def build_messages(request: str, catalog: Catalog, *, name: str | None = None) -> list[dict]:
    """The first conversation: contract as the system message, schema and request as the user's."""
    system = SYSTEM_PROMPT.format(schema=json.dumps(answer_schema(), separators=(",", ":")))
    user = f"Schema context (dbt sources and models you may read):\n\n{schema_context(request, catalog)}\n\n"
    user += f"Request: {request.strip()}\n"
    if name:
        user += f'Use "name": "{name}".\n'
    user += "Answer with the JSON object only."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_message(errors: list[str]) -> str:
    """The user turn that sends validation errors back to the model."""
    return REPAIR_PROMPT.format(errors="\n".join(f"- {e}" for e in errors))
