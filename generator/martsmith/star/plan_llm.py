"""The llm star planner: description + catalog -> `StarSpec` through any litellm model.

The model sees the source's tables (keys, foreign keys, columns, low-cardinality values) and the
JSON Schema of `StarSpec`; its answer is validated into a strict `StarSpec`, then checked against
the catalog the way the offline planner's choices are grounded: staging columns come from real
source columns, dimensions and facts read declared staging models and their columns, a dimension's
natural key is its base's key, facts point at declared dimensions. Problems go back to the model
(`martsmith.llm.client.complete_structured`). The rest of the `star` flow (measure tests from the
data, render, checks, one dbt build, ERD) is the offline flow's: `pipelines.star.generate_star`.
"""

from __future__ import annotations

import copy
import json

from martsmith.context.catalog import Catalog, Table
from martsmith.llm.client import complete_structured, parse_json_object, without_titles
from martsmith.plan.prompt import DATA_RULE, data_block, request_block, table_facts
from martsmith.star.check import stand_in_catalog
from martsmith.star.plan import source_tables
from martsmith.star.render import render_star
from martsmith.star.spec import DegenerateDimension, FactForeignKey, FactMeasure, StagingSpec, StarSpec
from martsmith.validate.static import check_sql

TOOL_FIELDS = ("request", "planner")  # filled by martsmith, not by the model

SYSTEM_PROMPT = """\
You design a Kimball star schema (dbt models) for an analytics engineer. You answer with ONE JSON \
object that follows the JSON Schema below, and nothing else: no prose, no markdown.

Rules:
- Every model reads staging models, never sources: list in `staging` one model per source table \
you use, named stg_<source_name>__<table>, whose `columns` rename the source columns \
(`source_column` spelled exactly as listed) to clean lower-case names; `id` becomes \
<entity>_id. `key` is the cleaned name of the table's key. When the key is NOT unique in the data, \
set `dedupe` true and `dedupe_order_by` to an updated_at-like cleaned column. When a model \
stg_<source>__<table> is listed as existing, reuse it with `existing` true and its columns.
- A dimension `dim_<entity>` reads one staging model (`base`); `natural_key` is that model's `key`; \
`attributes` are other cleaned columns of it.
- A fact `fct_<process>` reads the staging model at its grain (`base`); `grain` lists that model's \
key. Measures, foreign keys and degenerate dimensions read `input` "fact" (the base) or the alias \
of a `parents` entry (a header table joined many-to-one). Foreign keys point at declared \
dimensions: role "entity" for a dim_<entity> (the column holds its natural key), role "date" for \
the date dimension (the column holds a date or timestamp).
- Declare `date_dimension` (ISO start_date inclusive, end_date exclusive) when a fact has date keys.
- Use only the tables and columns listed. Write why each table got its role in `reasons`, and \
choices you had to make in `notes`.
- {data_rule}

JSON Schema of the answer:
{schema}
"""


def answer_schema() -> dict:
    """JSON Schema of `StarSpec` without the fields martsmith fills itself."""
    schema = copy.deepcopy(StarSpec.model_json_schema())
    for name in TOOL_FIELDS:
        schema["properties"].pop(name, None)
    schema["required"] = [r for r in schema.get("required", []) if r not in TOOL_FIELDS]
    return without_titles(schema)


def build_messages(
    description: str,
    source: str,
    tables: list[Table],
    catalog: Catalog,
    *,
    snowflake: bool = False,
    area: str | None = None,
) -> list[dict]:
    system = SYSTEM_PROMPT.format(schema=json.dumps(answer_schema(), separators=(",", ":")), data_rule=DATA_RULE)
    facts = []
    for t in tables:
        table = table_facts(t, catalog)  # primary_key_unique: false says the key repeats
        existing = catalog.table(f"stg_{source}__{t.name}")
        if existing is not None:
            table["existing_staging_model"] = {"name": existing.name, "columns": [c.name for c in existing.columns]}
        facts.append(table)
    user = (
        f'The tables of source {json.dumps(source)} (use "source_name": {json.dumps(source)}), '
        "one JSON object per table:\n" + data_block(*facts) + "\n\n"
    )
    user += f"The request, the star schema to design:\n{request_block(description)}\n\n"
    if snowflake:
        user += (
            'Snowflake it: set "snowflake": true and move hierarchies (category, brand...) into outrigger dimensions.\n'
        )
    if area:
        user += f'Use "area": {json.dumps(area)}.\n'
    user += "Answer with the JSON object only."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def plan_star_llm(
    catalog: Catalog,
    description: str | None,
    *,
    model: str,
    source: str | None = None,
    snowflake: bool = False,
    area: str | None = None,
    max_attempts: int | None = None,
    timeout: float | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
    schema: str | None = None,
) -> StarSpec:
    """Ask `model` for a star schema of `description` over `source`; return the first answer that
    validates and passes `star_problems` (and, given the project's `schema`, the static checks of
    the rendered SQL). Raises `LLMError` (see `complete_structured`)."""
    source, tables = source_tables(catalog, source)
    request = (description or "").strip() or f"a star schema for the source '{source}'"
    answers = 0

    def parse(text: str) -> StarSpec:
        nonlocal answers
        answers += 1
        data = parse_json_object(text)
        for field in TOOL_FIELDS:
            data.pop(field, None)
        if area:
            data["area"] = area
        if snowflake:
            data["snowflake"] = True
        data["request"], data["planner"] = description or "", f"llm:{model}"
        return StarSpec.model_validate(data)

    star = complete_structured(
        build_messages(request, source, tables, catalog, snowflake=snowflake, area=area),
        model=model,
        parse=parse,
        check=lambda s: star_problems(s, catalog, source, schema=schema),
        max_attempts=max_attempts,
        timeout=timeout,
        api_base=api_base,
        api_key=api_key,
        mock_response=mock_response,
        what="star schema spec",
        schema=answer_schema(),
        schema_name="star_spec",
        hint="Name the fact and the dimensions in the description, use a stronger model, "
        "or drop --llm for the offline planner.",
    )
    if answers > 1:
        star.notes.append(f"llm answer accepted after {answers} calls")
    return star


# --- checks against the catalog ------------------------------------------------------------


def _names(stg: StagingSpec) -> str:
    return ", ".join(c.name for c in stg.columns)


def _staging_problems(star: StarSpec, catalog: Catalog, source: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, s in enumerate(star.staging):
        where = f"staging[{i}] ({s.name})"
        if s.name in seen:
            out.append(f"{where}: staging model {s.name} is declared twice")
        seen.add(s.name)
        if s.source_name != source:
            out.append(f"{where}.source_name: must be '{source}'")
        table = catalog.table(f"source:{source}.{s.table}")
        if table is None:
            tables = ", ".join(t.name for t in catalog.tables if t.kind == "source" and t.source_name == source)
            out.append(f"{where}.table: source '{source}' has no table '{s.table}'; tables are: {tables}")
            continue
        model = catalog.table(s.name)
        if s.existing and (model is None or model.kind != "model"):
            out.append(f"{where}.existing: there is no model {s.name} to reuse: set existing to false")
        elif not s.existing and model is not None and model.kind == "model":
            out.append(f"{where}: model {s.name} already exists: set existing to true and use its columns")
        real = model if s.existing and model is not None else table
        for c in s.columns:
            if real.column(c.source_column) is None:
                out.append(
                    f"{where}: column '{c.source_column}' does not exist in {real.label}; "
                    f"columns are: {', '.join(x.name for x in real.columns)}"
                )
        names = [c.name for c in s.columns]
        if len(set(names)) != len(names):
            out.append(f"{where}.columns: column names repeat")
        for field, value in (("key", s.key), ("dedupe_order_by", s.dedupe_order_by)):
            if value is not None and s.column(value) is None:
                out.append(f"{where}.{field}: '{value}' is not one of its columns: {_names(s)}")
        if s.dedupe and not s.dedupe_order_by:
            out.append(f"{where}: dedupe needs dedupe_order_by (an updated_at-like column)")
        key_source = next((c.source_column for c in s.columns if c.name == s.key), None)
        if (
            not s.existing
            and not s.dedupe
            and table.primary_key_unique is False
            and key_source is not None
            and key_source == table.primary_key
        ):
            out.append(
                f"{where}: {table.name}.{table.primary_key} is not unique in the data: set dedupe "
                "true and dedupe_order_by to an updated_at-like column"
            )
    return out


def _column_problem(where: str, column: str, stg: StagingSpec | None, base: str) -> list[str]:
    if stg is None:
        return []  # reported once for the base itself
    if stg.column(column) is None:
        return [f"{where}: column '{column}' does not exist in {base}; columns are: {_names(stg)}"]
    return []


def star_problems(star: StarSpec, catalog: Catalog, source: str, *, schema: str | None = None) -> list[str]:
    """Everything in `star` that the catalog contradicts, as sentences the model can act on.
    With `schema` (where the new models go), the rendered SQL's static checks too."""
    out = [f"source_name: must be '{source}'"] if star.source_name != source else []
    out += _staging_problems(star, catalog, source)
    staged = {s.name: s for s in star.staging}
    declared = ", ".join(staged) or "none"

    def base_of(where: str, name: str) -> StagingSpec | None:
        stg = staged.get(name)
        if stg is None:
            out.append(f"{where}: '{name}' is not a declared staging model (declared: {declared})")
        return stg

    dims = {d.name: d for d in star.dimensions}
    entities: set[str] = set()
    for i, d in enumerate(star.dimensions):
        where = f"dimensions[{i}] ({d.name})"
        if d.entity in entities:
            out.append(f"{where}: entity '{d.entity}' is used twice: surrogate keys would clash")
        entities.add(d.entity)
        stg = base_of(f"{where}.base", d.base)
        for col in [d.natural_key, *d.attributes, *([d.distinct_of] if d.distinct_of else [])]:
            out += _column_problem(where, col, stg, d.base)
        if stg is not None and d.distinct_of is None and d.natural_key != stg.key and stg.column(d.natural_key):
            out.append(
                f"{where}.natural_key: '{d.natural_key}' is not the key of {d.base} ({stg.key}): "
                "one row per natural key needs the base's key"
            )
        for o in d.outriggers:
            if o.dimension not in dims:
                out.append(f"{where}.outriggers: {o.dimension} is not a declared dimension")
    date_name = star.date_dimension.name if star.date_dimension else None
    for i, f in enumerate(star.facts):
        where = f"facts[{i}] ({f.name})"
        fstg = base_of(f"{where}.base", f.base)
        inputs: dict[str, tuple[StagingSpec | None, str]] = {"fact": (fstg, f.base)}
        for col in f.grain:
            out += _column_problem(f"{where}.grain", col, fstg, f.base)
        for p in f.parents:
            pstg = base_of(f"{where}.parents.{p.alias}", p.base)
            inputs[p.alias] = (pstg, p.base)
            out += _column_problem(f"{where}.parents.{p.alias}.fact_column", p.fact_column, fstg, f.base)
            out += _column_problem(f"{where}.parents.{p.alias}.parent_key", p.parent_key, pstg, p.base)
        items: list[FactForeignKey | FactMeasure | DegenerateDimension] = [*f.foreign_keys, *f.measures, *f.degenerate]
        for item in items:
            stg, base = inputs.get(item.input, (None, ""))
            out += _column_problem(f"{where}.{item.name}", item.column, stg, base)
        for fk in f.foreign_keys:
            if fk.role == "date" and fk.dimension != date_name:
                out.append(
                    f"{where}.{fk.name}: a date key must point at the date dimension "
                    f"({date_name or 'declare date_dimension'})"
                )
            if fk.role == "entity" and fk.dimension not in dims:
                out.append(f"{where}.{fk.name}: role 'entity' must point at a dimension: {', '.join(dims) or 'none'}")
    if not out:
        out += _render_problems(star, catalog, schema)
    return out


def _render_problems(star: StarSpec, catalog: Catalog, schema: str | None) -> list[str]:
    """A spec the renderer cannot turn into files, or whose SQL fails the static checks (the
    same `check_sql` over the same stand-in catalog as `star.check.static_check`), is a spec problem
    too."""
    try:
        files = render_star(star)
    except Exception as exc:  # noqa: BLE001 - any failure here is the spec's
        return [f"the spec cannot be rendered: {exc}"]
    if schema is None:
        return []
    stand_in = stand_in_catalog(catalog, star, schema)
    return [
        f"{path.rsplit('/', 1)[-1]}: {f.message}"
        for path, text in files.items()
        if path.endswith(".sql")
        for f in check_sql(text, stand_in)
    ]
