"""The catalog: what the planner may use. dbt nodes (sources and models) joined with what the
warehouse says about them (columns, types, row counts, distinct values) and the keys between them.

Only tables that are dbt nodes are in the catalog: generated code must reach them through
`source()` or `ref()`. A warehouse table no source declares is listed in `undeclared` so that
messages can suggest `martsmith sources`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Literal

from martsmith.context.suggest import suggest
from martsmith.context.warehouse import Warehouse, quote, relation_sql
from martsmith.context.words import singular
from martsmith.errors import UsageError, WarehouseError
from martsmith.render.jinja_safe import data_problem

LOW_CARDINALITY = 30  # distinct values at most, for a column's values to be linkable words
TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR")
NUMERIC_TYPES = (
    "INT",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "DOUBLE",
    "FLOAT",
    "REAL",
    "DECIMAL",
    "NUMERIC",
    "UBIGINT",
    "UINTEGER",
)
TIME_TYPES = ("DATE", "TIMESTAMP", "TIME")


def type_family(data_type: str) -> Literal["text", "number", "time", "boolean", "other"]:
    t = data_type.upper()
    if t.startswith(TIME_TYPES) or t.startswith("TIMESTAMP"):
        return "time"
    if t.startswith("BOOL"):
        return "boolean"
    if t.startswith(NUMERIC_TYPES) or t.startswith("INTEGER"):
        return "number"
    if t.startswith(TEXT_TYPES):
        return "text"
    return "other"


@dataclass
class Column:
    name: str
    data_type: str
    description: str = ""
    null_count: int | None = None
    distinct_count: int | None = None
    values: list[str] | None = None  # every distinct value, for low-cardinality text columns
    tests: list[str] = field(default_factory=list)  # generic tests declared in the project

    @property
    def family(self) -> str:
        return type_family(self.data_type)


@dataclass
class Table:
    """A dbt source table or model with its warehouse columns."""

    kind: Literal["source", "model"]
    name: str  # source table name, or model name
    schema: str
    identifier: str
    database: str | None = None
    source_name: str | None = None
    unique_id: str = ""
    description: str = ""
    columns: list[Column] = field(default_factory=list)
    row_count: int | None = None
    primary_key: str | None = None
    primary_key_unique: bool | None = None  # does the data agree that the key is unique?
    # martsmith generated this model as an aggregate (meta.martsmith.aggregate).
    generated_aggregate: bool = False
    # Exact distinct counts the profile query took of likely key columns.
    exact_distinct: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """How dbt selects it: `source:shop.orders` or `stg_orders`."""
        return f"source:{self.source_name}.{self.name}" if self.kind == "source" else self.name

    @property
    def relation(self) -> str:
        return relation_sql(self.schema, self.identifier)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def jinja(self) -> str:
        if self.kind == "source":
            return f"{{{{ source('{self.source_name}', '{self.name}') }}}}"
        return f"{{{{ ref('{self.name}') }}}}"


@dataclass
class ForeignKey:
    table: str  # Table.label
    column: str
    ref_table: str
    ref_column: str
    origin: Literal["declared", "inferred"] = "inferred"
    cast: bool = False  # the two columns' types differ (text and number): joined as text


@dataclass
class Catalog:
    tables: list[Table] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    undeclared: list[tuple[str, str]] = field(default_factory=list)
    # label -> labels of every node it is built from (dbt lineage, transitively)
    ancestors: dict[str, set[str]] = field(default_factory=dict)
    # label of a source left out because it declares a relation another node of the catalog
    # already is (a source over a dbt model's table) -> that node's label
    aliases: dict[str, str] = field(default_factory=dict)
    # label of a source -> label of the project's own staging model of it: a `stg_` model (or one
    # under a staging folder) that selects from that source, or from the seed it stands in for,
    # and from nothing else
    staging: dict[str, str] = field(default_factory=dict)

    def is_upstream_of(self, label: str, other: str) -> bool:
        """True when `other` is `label` at a later layer: built (directly or not) from it, and
        the same entity (`raw_orders` -> `stg_orders` -> `orders`, `stg_customers` ->
        `dim_customer`) or built from nothing `label` is not built from. A mart that joins
        another entity in (`orders` summing `stg_payments`) is no later layer of that entity."""
        built_from = self.ancestors.get(other, set())
        if label not in built_from:
            return False
        if entity_of(_name_of(label)) == entity_of(_name_of(other)):
            return True
        return built_from <= {label} | self.ancestors.get(label, set())

    def without_generated_aggregates(self) -> Catalog:
        """The catalog minus the aggregates martsmith generated: re-aggregating them would
        average averages and count counts, so planners build from sources and staging."""
        keep = [t for t in self.tables if not t.generated_aggregate]
        labels = {t.label for t in keep}
        fks = [f for f in self.foreign_keys if f.table in labels and f.ref_table in labels]
        ancestors = {k: v & labels for k, v in self.ancestors.items() if k in labels}
        aliases = {k: v for k, v in self.aliases.items() if v in labels}
        staging = {k: v for k, v in self.staging.items() if k in labels and v in labels}
        return Catalog(
            tables=keep,
            foreign_keys=fks,
            undeclared=self.undeclared,
            ancestors=ancestors,
            aliases=aliases,
            staging=staging,
        )

    def table(self, label: str) -> Table | None:
        label = self.aliases.get(label, label)
        return next((t for t in self.tables if t.label == label), None)

    def by_relation(self, schema: str, identifier: str) -> Table | None:
        return next(
            (
                t
                for t in self.tables
                if t.schema.lower() == schema.lower() and t.identifier.lower() == identifier.lower()
            ),
            None,
        )

    def schema_for_sqlglot(self) -> dict:
        """{schema: {table: {column: type}}} keyed by the physical relation."""
        out: dict = {}
        for t in self.tables:
            out.setdefault(t.schema, {})[t.identifier] = {c.name: c.data_type for c in t.columns}
        return out


def _name_of(label: str) -> str:
    """The table name in a label: `source:shop.orders` -> `orders`, `stg_orders` -> itself."""
    return label.rsplit(".", 1)[-1] if label.startswith("source:") else label


def entity_of(table_name: str) -> str:
    """The entity a table holds: stg_shop__orders -> order, dim_customers -> customer."""
    name = table_name.lower()
    if "__" in name:
        name = name.split("__", 1)[1]
    for prefix in ("stg_", "int_", "dim_", "fct_", "raw_", "src_", "base_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return singular(name)


def _node_table(node, kind: Literal["source", "model"], identifier: str, description: str, **extra) -> Table:
    """A catalog table for a dbt source or model node, its columns as the project declares them
    (the warehouse's replace them in build_catalog)."""
    return Table(
        kind=kind,
        name=node.name,
        schema=node.schema,
        identifier=identifier,
        database=node.database,
        unique_id=node.unique_id,
        description=description or "",
        columns=[Column(c.name, c.data_type or "", c.description or "") for c in node.columns.values()],
        **extra,
    )


def _nodes_from_manifest(manifest) -> list[Table]:
    tables = [
        _node_table(
            src,
            "source",
            src.identifier or src.name,
            src.description or src.source_description,
            source_name=src.source_name,
        )
        for src in manifest.sources.values()
    ]
    for node in manifest.nodes.values():
        if node.resource_type != "model" or not node.config.enabled:
            continue
        tables.append(
            _node_table(
                node, "model", node.alias or node.name, node.description, generated_aggregate=_generated_aggregate(node)
            )
        )
    return tables


def _generated_aggregate(node) -> bool:
    meta = (getattr(node.config, "meta", None) or {}).get("martsmith") or {}
    return bool(meta.get("aggregate"))


def _declared_tests(manifest, tables: list[Table]) -> list[ForeignKey]:
    """Attach declared generic tests to columns; return declared relationships as foreign keys."""
    by_id = {t.unique_id: t for t in tables}
    fks: list[ForeignKey] = []
    for node in manifest.nodes.values():
        if node.resource_type != "test" or not getattr(node, "test_metadata", None):
            continue
        meta = node.test_metadata
        kwargs = meta.kwargs or {}
        deps = [by_id[d] for d in node.depends_on.nodes if d in by_id]
        # A relationships test depends on both tables; `to` names the parent, so the owner is the
        # other one (tests on sources have no attached_node to say so).
        parent = _relation_target(kwargs.get("to"), deps) if meta.name == "relationships" else None
        attached = getattr(node, "attached_node", None)
        owner = by_id.get(attached) if attached else None
        if owner is None:
            owner = next((t for t in deps if t is not parent), None)
        column_name = kwargs.get("column_name")
        if owner is None or not column_name:
            continue
        col = owner.column(column_name)
        if col is not None:
            col.tests.append(meta.name)
        if meta.name in ("unique",) and owner.primary_key is None:
            owner.primary_key = column_name
        if meta.name == "relationships":
            field_name = kwargs.get("field")
            if parent is None:
                parent = next((t for t in deps if t is not owner), None)
            if parent is not None and field_name:
                fks.append(ForeignKey(owner.label, column_name, parent.label, field_name, "declared"))
    return fks


RELATION_ARG = re.compile(r"""(source|ref)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")


def _relation_target(argument, deps: list[Table]) -> Table | None:
    """The table a relationships test's `to:` argument names (`source('s', 't')`, `ref('m')`)."""
    match = RELATION_ARG.search(str(argument or ""))
    if not match:
        return None
    kind, first, second = match.groups()
    if kind == "source":
        return next((t for t in deps if t.kind == "source" and t.source_name == first and t.name == second), None)
    return next((t for t in deps if t.kind == "model" and t.name == (second or first)), None)


def _key_candidates(table: Table) -> list[str]:
    """The columns `_infer_primary_key` may need an exact distinct count of: the declared key,
    or the first named like a key, or the first column (a natural key such as `breed_code`)."""
    if table.primary_key:
        return [table.primary_key]
    ent = entity_of(table.name)
    names = {c.name.lower(): c.name for c in table.columns}
    own = table.name.lower()
    for candidate in ("id", f"{ent}_id", f"{own}_id", f"{ent}_key", f"{ent}_sk", "key", "uid"):
        if candidate in names:
            return [names[candidate]]
    return [table.columns[0].name] if table.columns and _natural_key_named(table) else []


def _natural_key_named(table: Table) -> bool:
    """contestants.contestant_number, breeds.breed_code: the first column, named after the
    entity and not a time or text label."""
    first = table.columns[0]
    words = first.name.lower().split("_")
    return (
        len(words) > 1
        and singular(words[0]) == entity_of(table.name).split("_")[-1]
        and words[-1] in ("number", "code", "no", "num", "ref")
        and first.family in ("number", "text")
    )


def _statistics(table: Table) -> list[str]:
    """Row count, then non-null and approximate distinct counts of each column, then the exact
    distinct count of each likely key (`_key_candidates`)."""
    parts = ["count(*)"]
    for c in table.columns:
        q = quote(c.name)
        parts += [f"count({q})", f"approx_count_distinct({q})"]
    return parts + [f"count(distinct {quote(k)})" for k in _key_candidates(table)]


def _apply_statistics(table: Table, row: list) -> None:
    keys = _key_candidates(table)
    table.row_count = int(row[0])
    for i, c in enumerate(table.columns):
        non_null, distinct = row[1 + 2 * i], row[2 + 2 * i]
        c.null_count = table.row_count - int(non_null)
        c.distinct_count = int(distinct)
    table.exact_distinct = {k: int(v) for k, v in zip(keys, row[1 + 2 * len(table.columns) :])}


def _low_cardinality(table: Table) -> list[Column]:
    return [
        c
        for c in table.columns
        if c.family == "text" and (c.distinct_count or 0) <= LOW_CARDINALITY and c.distinct_count
    ]


def _values(table: Table) -> list[str]:
    """The distinct values of each low-cardinality text column (sorted by `_apply_values`:
    Spark's collect_list keeps no ORDER BY)."""
    return [
        f"list(distinct cast({quote(c.name)} as varchar) order by cast({quote(c.name)} as varchar))"
        for c in _low_cardinality(table)
    ]


def _apply_values(table: Table, row: list) -> None:
    for c, values in zip(_low_cardinality(table), row):
        vals = sorted(str(v) for v in (values or []) if v is not None)
        if len(vals) <= LOW_CARDINALITY:
            # A value dbt would run as Jinja is never a word the planner can filter on.
            c.values = [str(v) for v in vals if not data_problem(str(v))]


def _profile(wh: Warehouse, tables: list[Table]) -> None:
    """Row count, nulls and distinct counts — and the exact distinct count of the likely key,
    which `_infer_primary_key` then reads instead of asking again — in one query per table;
    values of low-cardinality text columns in a second one. (On a server every query is a round
    trip.) Where each query is a job with a fixed cost of its own (`wh.batch_queries`: Spark),
    the tables' queries run as one UNION ALL per step (each table's figures as one list), one
    by one if that fails."""
    tables = [t for t in tables if t.columns]
    _each(wh, tables, _statistics, _apply_statistics)
    _each(wh, [t for t in tables if _low_cardinality(t)], _values, _apply_values)


def _each(wh: Warehouse, tables: list[Table], exprs, apply) -> None:
    """`apply(table, row)` with the row of `exprs(table)` over each table."""
    if wh.batch_queries and len(tables) > 1:
        union = " union all ".join(
            f"select {i} as i, [{', '.join(exprs(t))}] as v from {t.relation}" for i, t in enumerate(tables)
        )
        try:
            rows = wh.query(union)
        except WarehouseError:
            pass  # one odd table (a type an aggregate refuses): each on its own below
        else:
            for i, row in rows:
                apply(tables[i], list(row))
            return
    for t in tables:
        apply(t, list(wh.query(f"select {', '.join(exprs(t))} from {t.relation}")[0]))


def _infer_primary_key(wh: Warehouse, table: Table) -> None:
    if table.primary_key is None:
        ent = entity_of(table.name)
        names = {c.name.lower(): c.name for c in table.columns}  # People_ID is person_id
        own = table.name.lower()  # people.People_ID: named after the table, not its entity
        for candidate in ("id", f"{ent}_id", f"{own}_id", f"{ent}_key", f"{ent}_sk", "key", "uid"):
            if candidate in names:
                table.primary_key = names[candidate]
                break
        if table.primary_key is None and table.columns and table.row_count:
            # contestants.contestant_number, breeds.breed_code: the first column, named after the
            # entity and not a time or text label, when every row has its own value.
            first = table.columns[0]
            if _natural_key_named(table):
                distinct, nulls = _exact_distinct(wh, table, first.name), first.null_count
                if nulls is None:
                    (nulls,) = wh.query(f"select count(*) - count({quote(first.name)}) from {table.relation}")[0]
                if distinct == table.row_count and int(nulls) == 0:
                    table.primary_key = first.name
    if table.primary_key and table.row_count is not None:
        table.primary_key_unique = _exact_distinct(wh, table, table.primary_key) == table.row_count


def _exact_distinct(wh: Warehouse, table: Table, column: str) -> int:
    """count(distinct column): from the profile query when it counted it, else asked."""
    if column in table.exact_distinct:
        return table.exact_distinct[column]
    (distinct,) = wh.query(f"select count(distinct {quote(column)}) from {table.relation}")[0]
    return int(distinct)


def _unique_column(table: Table, name: str) -> Column | None:
    """`name` in `table` when it identifies a row: the primary key, or declared unique."""
    col = table.column(name)
    if col is None:
        return None
    return col if col.name == table.primary_key or "unique" in col.tests else None


def _joinable(ref_type: str, family: str) -> bool:
    """Same type family, or a number key stored as text on one side (joined as text)."""
    ref = type_family(ref_type)
    return ref == family or {ref, family} == {"number", "text"}


def infer_foreign_keys(tables: list[Table], declared: list[ForeignKey]) -> list[ForeignKey]:
    """`<entity>_id` in one table -> the table(s) that hold <entity>.

    Every table of that entity with a unique column of the very same name is a target (a staging
    model and the dimension built on it both hold `customer_id`); without one, the entity's table
    of the same kind, by its primary key.
    """
    have = {(f.table, f.column) for f in declared}
    by_entity: dict[str, list[Table]] = {}
    for t in tables:
        if t.primary_key:
            by_entity.setdefault(entity_of(t.name), []).append(t)
    out: list[ForeignKey] = []
    for t in tables:
        for c in t.columns:
            if (t.label, c.name) in have or c.name == t.primary_key:
                continue
            name = c.name.lower()
            for suffix in ("_id", "_key"):
                if name.endswith(suffix) and len(name) > len(suffix):
                    ent = singular(name[: -len(suffix)])
                    targets = [x for x in by_entity.get(ent, []) if x is not t]
                    # A role-playing key: start_station_id, end_station_id -> stations.
                    words = ent.split("_")
                    while not targets and len(words) > 1:
                        words = words[1:]
                        targets = [x for x in by_entity.get(singular("_".join(words)), []) if x is not t]
                    exact = [
                        (x, col)
                        for x in targets
                        if (col := _unique_column(x, c.name)) is not None and _joinable(col.data_type, c.family)
                    ]
                    if exact:
                        out += [
                            ForeignKey(t.label, c.name, x.label, col.name, cast=type_family(col.data_type) != c.family)
                            for x, col in exact
                        ]
                        break
                    # Prefer the same kind of node (a source joins sources, a model joins models).
                    targets.sort(key=lambda x: (x.kind != t.kind, x.label))
                    if targets:
                        target = targets[0]
                        ref_col = target.column(target.primary_key or "")
                        if ref_col and _joinable(ref_col.data_type, c.family):
                            out.append(
                                ForeignKey(
                                    t.label,
                                    c.name,
                                    target.label,
                                    target.primary_key or "",
                                    cast=type_family(ref_col.data_type) != c.family,
                                )
                            )
                    break
    out += _same_name_keys(tables, have | {(f.table, f.column) for f in out})
    return out + _entity_named_keys(tables, have | {(f.table, f.column) for f in out})


def _entity_named_keys(tables: list[Table], have: set[tuple[str, str]]) -> list[ForeignKey]:
    """A number column named after another table's entity (flights.airline -> airlines.uid,
    model_list.maker -> car_makers.id, tv_series.channel -> tv_channel.id): a key without the
    `_id`, when exactly one table is that entity and its primary key is a unique number."""
    by_word: dict[str, list[Table]] = {}
    for t in tables:
        ent = entity_of(t.name).lower()
        if t.primary_key and t.primary_key_unique is not False:
            for w in {ent, ent.split("_")[-1]}:
                by_word.setdefault(singular(w), []).append(t)
    out = []
    for t in tables:
        for c in t.columns:
            if c.family != "number" or (t.label, c.name) in have or c.name == t.primary_key:
                continue
            targets = [x for x in by_word.get(singular(c.name.lower()), []) if x is not t]
            if len(targets) != 1:
                continue
            ref = targets[0].column(targets[0].primary_key or "")
            if ref is not None and type_family(ref.data_type) == "number":
                out.append(ForeignKey(t.label, c.name, targets[0].label, ref.name))
    return out


_GENERIC_KEYS = {"id", "key", "code", "name", "uid", "pk"}


def _same_name_keys(tables: list[Table], have: set[tuple[str, str]]) -> list[ForeignKey]:
    """A column named exactly like another table's primary key (votes.contestant_number ->
    contestants.contestant_number, has_pet.stuid -> student.stuid) refers to it, when exactly one
    table has that key and the name is not a generic one ('id', 'code')."""
    by_key: dict[str, list[Table]] = {}
    for t in tables:
        if t.primary_key and t.primary_key.lower() not in _GENERIC_KEYS and t.primary_key_unique is not False:
            by_key.setdefault(t.primary_key.lower(), []).append(t)
    out = []
    for t in tables:
        for c in t.columns:
            targets = [x for x in by_key.get(c.name.lower(), []) if x is not t]
            if (t.label, c.name) in have or c.name == t.primary_key or len(targets) != 1:
                continue
            ref = targets[0].column(targets[0].primary_key or "")
            if ref is not None and _joinable(ref.data_type, c.family):
                out.append(
                    ForeignKey(t.label, c.name, targets[0].label, ref.name, cast=type_family(ref.data_type) != c.family)
                )
    return out


def build_catalog(manifest, wh: Warehouse, *, profile: bool = True) -> Catalog:
    """Catalog of the project's sources and models that exist in the warehouse."""
    tables = _nodes_from_manifest(manifest)
    physical = wh.columns()
    present: list[Table] = []
    for t in tables:
        cols = next(
            (
                v
                for (s, n), v in physical.items()
                if s.lower() == t.schema.lower() and n.lower() == t.identifier.lower()
            ),
            None,
        )
        if cols is None:
            continue  # declared but not built (yet): it cannot be queried
        described = {c.name.lower(): c for c in t.columns}
        t.columns = [
            Column(name, dtype, described[name.lower()].description if name.lower() in described else "")
            for name, dtype in cols
        ]
        present.append(t)
    declared = _declared_tests(manifest, present)
    kept, aliases, same = one_per_relation(present, built_relations(manifest))
    declared = _relabel(declared, aliases)
    if profile:
        _profile(wh, kept)
    for t in kept:
        _infer_primary_key(wh, t)
    known = {(t.schema.lower(), t.identifier.lower()) for t in present}
    undeclared = sorted((s, n) for (s, n) in physical if (s.lower(), n.lower()) not in known)
    fks = declared + infer_foreign_keys(kept, declared)
    stand_ins = same | {src.unique_id: aliases[src.label] for src in present if src.label in aliases}
    ancestors = lineage(manifest, kept, stand_ins)
    return Catalog(
        tables=kept,
        foreign_keys=fks,
        undeclared=undeclared,
        ancestors=ancestors,
        aliases=aliases,
        staging=staging_models(manifest, kept, stand_ins),
    )


def staging_models(manifest, tables: list[Table], stand_ins: dict[str, str]) -> dict[str, str]:
    """source label -> the project's staging model of it: a model named `stg_...` or kept in a
    `staging` folder whose one parent is that source (or the seed the source stands in for)."""
    label_of = {**stand_ins, **{t.unique_id: t.label for t in tables}}
    sources = {t.label for t in tables if t.kind == "source"}
    in_catalog = {t.unique_id for t in tables if t.kind == "model"}
    out: dict[str, str] = {}
    for uid, node in sorted(manifest.nodes.items()):
        if uid not in in_catalog:
            continue
        folders = [str(f).lower() for f in (getattr(node, "fqn", None) or [])[:-1]]
        if not (node.name.lower().startswith("stg_") or "staging" in folders):
            continue
        parents = [
            p for p in getattr(node.depends_on, "nodes", []) or [] if p.split(".")[0] in BUILT_RESOURCES + ("source",)
        ]
        if len(parents) == 1 and label_of.get(parents[0]) in sources:
            out.setdefault(label_of[parents[0]], label_of[uid])
    return out


BUILT_RESOURCES = ("model", "seed", "snapshot")


def built_relations(manifest) -> dict[tuple[str, str], str]:
    """(schema, identifier), lower-cased -> unique_id of the enabled dbt node that builds that
    relation: a model, a seed or a snapshot."""
    out = {}
    for node in manifest.nodes.values():
        if node.resource_type in BUILT_RESOURCES and node.config.enabled:
            out[(str(node.schema).lower(), str(node.alias or node.name).lower())] = node.unique_id
    return out


def one_per_relation(
    tables: list[Table], built: dict[tuple[str, str], str]
) -> tuple[list[Table], dict[str, str], dict[str, str]]:
    """One catalog table per warehouse relation: a source declared over a relation a model of the
    catalog builds is that model (and a second source over one relation is the first). Returns
    the tables kept, {label left out: label kept} and {unique_id of a seed or snapshot: label of
    the source that reads its relation}, so that what is built from the seed is built from it."""
    by_uid = {t.unique_id: t for t in tables}
    kept: list[Table] = []
    aliases: dict[str, str] = {}
    same: dict[str, str] = {}
    source_of: dict[tuple[str, str], str] = {}
    for t in sorted(tables, key=lambda t: (t.kind != "model", t.label)):
        rel = (t.schema.lower(), t.identifier.lower())
        if t.kind == "model":
            kept.append(t)
            continue
        builder = built.get(rel)
        if builder in by_uid and by_uid[builder].kind == "model":
            aliases[t.label] = by_uid[builder].label
        elif rel in source_of:
            aliases[t.label] = source_of[rel]
        else:
            source_of[rel] = t.label
            if builder is not None:
                same[builder] = t.label
            kept.append(t)
    order = {id(t): n for n, t in enumerate(tables)}
    return sorted(kept, key=lambda t: order[id(t)]), aliases, same


def _relabel(fks: list[ForeignKey], aliases: dict[str, str]) -> list[ForeignKey]:
    """Foreign keys declared on a source left out, moved to the table it is (once each)."""
    out: list[ForeignKey] = []
    seen = set()
    for f in fks:
        f = dataclasses.replace(f, table=aliases.get(f.table, f.table), ref_table=aliases.get(f.ref_table, f.ref_table))
        key = (f.table, f.column, f.ref_table, f.ref_column)
        if f.table != f.ref_table and key not in seen:
            seen.add(key)
            out.append(f)
    return out


def lineage(manifest, tables: list[Table], same: dict[str, str] | None = None) -> dict[str, set[str]]:
    """label -> labels of the catalog tables it is built from, following depends_on through any
    node (ephemeral and intermediate models included). `same` maps the unique_id of a node not
    in the catalog (a seed) to the catalog table that reads the same relation (its source)."""
    parents = {uid: set(getattr(n.depends_on, "nodes", []) or []) for uid, n in manifest.nodes.items()}
    label_of = {**(same or {}), **{t.unique_id: t.label for t in tables}}
    out: dict[str, set[str]] = {}
    for t in tables:
        seen: set[str] = set()
        stack = list(parents.get(t.unique_id, ()))
        while stack:
            uid = stack.pop()
            if uid in seen:
                continue
            seen.add(uid)
            stack.extend(parents.get(uid, ()))
        out[t.label] = {label_of[u] for u in seen if u in label_of} - {t.label}
    return out


def resolve_node(catalog: Catalog, name: str) -> Table:
    """The table a user named as dbt selects it (`stg_orders`, `source:shop.orders`, or just
    `shop.orders` / `orders` when that is unambiguous); a UsageError with suggestions otherwise."""
    exact = catalog.table(name)
    if exact is not None:
        return exact
    bare = name.removeprefix("source:")
    matches = [t for t in catalog.tables if bare in (t.name, f"{t.source_name}.{t.name}" if t.source_name else t.name)]
    if len(matches) == 1:
        return matches[0]
    labels = [t.label for t in catalog.tables]
    if len(matches) > 1:
        raise UsageError(f"'{name}' is ambiguous: " + ", ".join(t.label for t in matches) + ".")
    close = suggest(name, labels, cutoff=0.5) or suggest(bare, [t.name for t in catalog.tables], cutoff=0.5)
    hint = f"Did you mean {', '.join(close)}?" if close else "Known nodes: " + ", ".join(labels[:20])
    raise UsageError(f"No source or model named '{name}' (built in the warehouse).", hint=hint)
