"""What a model's compiled SQL does with its inputs, as predicates over each input's own columns.

`model_shape` parses the compiled SQL with sqlglot (qualify + pushdown_projections, so that
`select *` import CTEs keep only the columns used downstream), then follows every column back
through CTEs and subqueries to the input relation it comes from ("unfolding"). What it reports:

- the columns the model uses from each input;
- every join with an equality key whose two sides each come from one input, and every
  `[not] exists` subquery correlated by one (a semi or anti join);
- every CASE branch and WHERE conjunct whose condition comes from one input, as a predicate that
  a row of that input satisfies (or fails).

A column keeps being followed through a CTE that filters rows (WHERE, and the dedupes that
`martsmith.deduplicate` compiles to on each adapter: DuckDB's
`qualify row_number() over (partition by id order by updated_at desc nulls last) = 1`, Postgres'
`select distinct on (id) * ... order by id, updated_at desc nulls last`, the default numbered
subquery filtered on `_martsmith_row = 1`) or groups them (a GROUP BY key); it stops at a
projection that is an aggregate or a window function. Conditions
that mix inputs, or that pass through aggregates or window functions, are skipped: the picker
cannot select one input's rows for them. The columns that windows, QUALIFY and GROUP BY read
count as used: a fixture row without them (null in a dbt unit test) would dedupe or group wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from martsmith.errors import ValidationFailed

DIALECT = "duckdb"  # the picker's spelling: every predicate and key is rendered in it

RelKey = tuple[str, str]  # (schema, identifier), lower case


def rel_key(schema: str, identifier: str) -> RelKey:
    return (schema.lower(), identifier.lower())


@dataclass
class JoinEdge:
    """`left_key` (over the columns of `left`) = `right_key` (over `right`), joined as `side`."""

    side: str  # "left", "right", "full", "inner"; "semi" / "anti" for [not] exists (right's rows)
    left: RelKey
    left_key: str
    right: RelKey
    right_key: str
    text: str = ""  # the ON condition as written


@dataclass
class Condition:
    """A predicate over one input's columns that some input row should satisfy."""

    relation: RelKey
    predicate: str
    reason: str
    passes: bool = False  # a WHERE conjunct a row must satisfy to reach the model's output


@dataclass
class WindowRows:
    """What a window function needs to be tested at all: two rows of `relation` in one of its
    partitions (the same `partition` values) that are different rows of the window's input
    (different `distinct` values: its ORDER BY, and the GROUP BY keys it reads)."""

    relation: RelKey
    partition: list[str]
    distinct: list[str]
    reason: str


@dataclass
class GroupRows:
    """A filter on an aggregate (HAVING, or a WHERE over an aggregated column): the test needs
    every input row of one group that passes it. `keys` maps output columns of the model that
    are row values to the expression over one input's columns each is."""

    keys: dict[str, tuple[RelKey, str]]
    reason: str


@dataclass
class ModelShape:
    used: dict[RelKey, list[str]] = field(default_factory=dict)
    joins: list[JoinEdge] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    windows: list[WindowRows] = field(default_factory=list)
    groups: list[GroupRows] = field(default_factory=list)


class _NotRowLevel(Exception):
    """A column that does not come from exactly one input row (aggregate, window, union...)."""


def _sql(e: exp.Expr) -> str:
    return e.sql(dialect=DIALECT)


def _unfold(node: exp.Expr, scope: Scope, inputs: dict[int, RelKey]) -> tuple[exp.Expr, set[RelKey]]:
    """`node` rewritten over input columns (unqualified), and the inputs it reads."""
    rels: set[RelKey] = set()
    node = node.copy()
    if isinstance(node, exp.Column):
        node = exp.Paren(this=node)  # so that a bare column can be replaced in place
    for col in list(node.find_all(exp.Column)):
        source = scope.sources.get(col.table)
        if isinstance(source, exp.Table):
            key = inputs.get(id(source))
            if key is None:
                raise _NotRowLevel(col.sql())
            rels.add(key)
            col.replace(exp.column(col.name, quoted=True))
        elif isinstance(source, Scope):
            sub = source.expression
            if not isinstance(sub, exp.Select):
                raise _NotRowLevel(col.sql())
            proj = next((s for s in sub.selects if s.alias_or_name == col.name), None)
            if proj is None:
                raise _NotRowLevel(col.sql())
            inner = proj.this if isinstance(proj, exp.Alias) else proj
            # Only the projection itself matters: a QUALIFY dedupe, a window in another column
            # or a GROUP BY keep this column's value that of one input row (a group key is
            # the same in every row of its group). An aggregate or a window here does not.
            if inner.find(exp.AggFunc, exp.Window):
                raise _NotRowLevel(col.sql())
            unfolded, sub_rels = _unfold(inner, source, inputs)
            rels |= sub_rels
            col.replace(exp.Paren(this=unfolded))
        else:
            raise _NotRowLevel(col.sql())
    if isinstance(node, exp.Paren) and isinstance(node.this, (exp.Column, exp.Paren)):
        node = node.this
    return node, rels


def _text(e: exp.Expr) -> str:
    """`e` as a person would write it: no quotes around plain identifiers."""
    e = e.copy()
    for ident in e.find_all(exp.Identifier):
        if ident.name.isidentifier() and ident.name.lower() == ident.name:
            ident.set("quoted", False)
    return _sql(e)


def _single(node: exp.Expr, scope: Scope, inputs: dict[int, RelKey]) -> tuple[RelKey, str] | None:
    try:
        unfolded, rels = _unfold(node, scope, inputs)
    except _NotRowLevel:
        return None
    if len(rels) != 1:
        return None
    return next(iter(rels)), _sql(unfolded)


def _is_true(sql: str) -> str:
    return f"coalesce(({sql}), false)"


def _is_not_true(sql: str) -> str:
    return f"not coalesce(({sql}), false)"


def _owned_by(node: exp.Expression, scope: Scope) -> bool:
    return node.find_ancestor(exp.Select) is scope.expression


def _case_conditions(scope: Scope, inputs: dict[int, RelKey]) -> list[Condition]:
    out: list[Condition] = []
    for case in scope.expression.find_all(exp.Case):
        if not _owned_by(case, scope):
            continue
        label = case.parent.alias if isinstance(case.parent, exp.Alias) else "a CASE"
        whens = []
        for branch in case.args.get("ifs") or []:
            cond = branch.this
            if case.this is not None:  # simple CASE x WHEN v
                cond = exp.EQ(this=case.this.copy(), expression=cond.copy())
            whens.append((_single(cond, scope, inputs), _text(branch.this)))
        earlier: list[str] = []
        same_rel = True
        rel0 = whens[0][0][0] if whens and whens[0][0] else None
        for single, text in whens:
            if single is None:
                same_rel = False
                continue
            rel, pred = single
            if rel != rel0:
                same_rel = False
            parts = [_is_true(pred)] + ([_is_not_true(p) for p in earlier] if same_rel else [])
            out.append(Condition(rel, " and ".join(parts), f"{label}: WHEN {text}"))
            earlier.append(pred)
        if same_rel and rel0 is not None and earlier:
            out.append(Condition(rel0, " and ".join(_is_not_true(p) for p in earlier), f"{label}: ELSE"))
    return out


def _where_conditions(scope: Scope, inputs: dict[int, RelKey]) -> list[Condition]:
    where = scope.expression.args.get("where")
    if where is None:
        return []
    out: list[Condition] = []
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        single = _single(conjunct, scope, inputs)
        if single is None:
            continue
        rel, pred = single
        text = _text(conjunct)
        out.append(Condition(rel, _is_true(pred), f"WHERE {text}: passes", passes=True))
        out.append(Condition(rel, _is_not_true(pred), f"WHERE {text}: filtered out"))
    return out


def _group_keys(scope: Scope, inputs: dict[int, RelKey]) -> list[tuple[RelKey, str]]:
    """The GROUP BY keys (over input columns) of the grouped query `scope` reads its rows
    from, following single-source selects (a `computed` CTE over `aggregated`)."""
    for _ in range(4):
        select = scope.expression
        if not isinstance(select, exp.Select):
            return []
        group = select.args.get("group")
        if group is not None:
            keys = [_positional(g, select) for g in group.expressions]
            return [k for k in (_single(g, scope, inputs) for g in keys) if k is not None]
        source = select.args.get("from_") or select.args.get("from")  # the key's name differs by sqlglot version
        if source is None or select.args.get("joins"):
            return []
        read = scope.sources.get(source.this.alias_or_name)
        if not isinstance(read, Scope):
            return []
        scope = read
    return []


def _positional(key: exp.Expr, select: exp.Select) -> exp.Expr:
    """`group by 2`: the second selected expression."""
    if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.name) <= len(select.selects):
        chosen = select.selects[int(key.name) - 1]
        return chosen.this if isinstance(chosen, exp.Alias) else chosen
    return key


def _window_rows(scope: Scope, inputs: dict[int, RelKey]) -> list[WindowRows]:
    out: list[WindowRows] = []
    for window in scope.expression.find_all(exp.Window):
        if not _owned_by(window, scope) or window.find_ancestor(exp.Qualify):
            continue  # a QUALIFY row_number() is a dedupe, not a column of the output
        named = window.find_ancestor(exp.Alias)
        label = named.alias if named is not None and _owned_by(named, scope) else "a window"
        if label.startswith("_martsmith"):  # the numbered subquery of martsmith.deduplicate
            continue
        singles = [_single(e, scope, inputs) for e in window.args.get("partition_by") or []]
        partition = [p for p in singles if p is not None]
        if len(partition) < len(singles):
            continue
        order = window.args.get("order")
        ordered = [_single(o.this, scope, inputs) for o in (order.expressions if order else [])]
        distinct = [d for d in ordered if d is not None]
        distinct += [k for k in _group_keys(scope, inputs) if k not in distinct]
        # The rows are picked in one input: the partition's, else the first ordering or key's
        # (a key of a joined input repeats with its partner rows anyway).
        rels = {r for r, _ in partition} or {r for r, _ in distinct[:1]}
        if len(rels) != 1:
            continue
        rel = rels.pop()
        distinct = [(r, d) for r, d in distinct if r == rel]
        if not distinct:
            continue
        texts = [e.name if isinstance(e, exp.Column) else _text(e) for e in window.args.get("partition_by") or []]
        out.append(
            WindowRows(
                rel,
                [p for _, p in partition],
                [d for _, d in distinct],
                f"{label}: two rows in one window" + (f" (partition by {', '.join(texts)})" if texts else ""),
            )
        )
    return out


def _aggregate_filters(scope: Scope, inputs: dict[int, RelKey]) -> list[str]:
    """The conditions of `scope` on aggregated values: its HAVING, and WHERE conjuncts over a
    column of a grouped query it reads (`where order_count > 5` over `aggregated`)."""
    select = scope.expression
    out = []
    having = select.args.get("having")
    if having is not None:
        out.append(_text(having.this))
    where = select.args.get("where")
    if where is not None and _group_keys(scope, inputs):
        for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            if conjunct.find(exp.Exists, exp.Subquery) or not conjunct.find(exp.Column):
                continue
            try:
                _unfold(conjunct, scope, inputs)
            except _NotRowLevel:
                out.append(_text(conjunct))
    return out


def _outputs(scope: Scope, inputs: dict[int, RelKey]) -> dict[str, tuple[RelKey, str]]:
    """The output columns of `scope` that are one input's row values (a group key is)."""
    out = {}
    select = scope.expression
    if isinstance(select, exp.Select):
        for proj in select.selects:
            single = _single(proj.this if isinstance(proj, exp.Alias) else proj, scope, inputs)
            if single is not None:
                out[proj.alias_or_name] = single
    return out


def _exists_edges(scope: Scope, inputs: dict[int, RelKey]) -> list[JoinEdge]:
    """`where [not] exists (select ... from r where r.k = outer.k)`: a semi (anti) join of the
    outer input to `r` on each equality between an inner and an outer column."""
    out: list[JoinEdge] = []
    where = scope.expression.args.get("where")
    if where is None:
        return out
    for exists in where.find_all(exp.Exists):
        sub = next((s for s in scope.subquery_scopes if s.expression is exists.this), None)
        inner_where = sub.expression.args.get("where") if sub is not None else None
        if sub is None or inner_where is None:
            continue
        side = "anti" if isinstance(exists.parent, exp.Not) else "semi"
        inner_from = sub.expression.args.get("from_") or sub.expression.args.get("from")
        read = {inner_from.this.alias_or_name} if inner_from is not None else set()
        read |= {j.this.alias_or_name for j in sub.expression.args.get("joins") or []}
        conjuncts = inner_where.this.flatten() if isinstance(inner_where.this, exp.And) else [inner_where.this]
        for eq in conjuncts:
            if not isinstance(eq, exp.EQ):
                continue
            sides = [eq.this, eq.expression]
            own = [all(c.table in read for c in e.find_all(exp.Column)) for e in sides]
            if own == [True, False]:
                sides.reverse()
            elif own != [False, True]:
                continue
            outer, inner = _single(sides[0], scope, inputs), _single(sides[1], sub, inputs)
            if outer and inner and outer[0] != inner[0]:
                out.append(JoinEdge(side, outer[0], outer[1], inner[0], inner[1], _text(eq)))
    return out


def _join_edges(scope: Scope, inputs: dict[int, RelKey]) -> list[JoinEdge]:
    select = scope.expression
    out: list[JoinEdge] = []
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is None:
            continue
        joined = join.this.alias_or_name
        side = (join.side or "inner").lower()
        for eq in on.flatten() if isinstance(on, exp.And) else [on]:
            if not isinstance(eq, exp.EQ):
                continue
            sides = [eq.this, eq.expression]
            tables = [{c.table for c in s.find_all(exp.Column)} for s in sides]
            if tables[0] == {joined} and joined not in tables[1]:
                sides.reverse()
            elif not (tables[1] == {joined} and joined not in tables[0]):
                continue
            left, right = _single(sides[0], scope, inputs), _single(sides[1], scope, inputs)
            if left and right and left[0] != right[0]:
                out.append(JoinEdge(side, left[0], left[1], right[0], right[1], _text(eq)))
    return out


def model_shape(sql: str, schema: dict[RelKey, dict[str, str]], dialect: str = DIALECT) -> ModelShape:
    """The shape of compiled `sql` (written in `dialect`, the target's), whose inputs are the
    relations in `schema` ({(schema, identifier): {column: type}}); other relations in the SQL
    are ignored. Predicates and keys come back in DuckDB's spelling, as the picker writes SQL.

    >>> s = model_shape(
    ...     "select o.id, case when o.status = 'x' then 1 else 0 end as f "
    ...     "from raw.orders o left join raw.customers c on o.customer_id = c.id",
    ...     {("raw", "orders"): {"id": "int", "status": "text", "customer_id": "int"},
    ...      ("raw", "customers"): {"id": "int"}})
    >>> s.used[("raw", "orders")], s.joins[0].side, [c.reason for c in s.conditions]
    (['id', 'status', 'customer_id'], 'left', ["f: WHEN o.status = 'x'", 'f: ELSE'])
    """
    try:
        tree = parse_one(sql, dialect=dialect)
    except SqlglotError as exc:
        raise ValidationFailed(f"sqlglot cannot parse the model's compiled SQL: {exc}") from exc
    # The schema for qualify is keyed like the SQL spells each table (with or without catalog).
    lowered = {rel_key(*k): v for k, v in schema.items()}
    nested: dict = {}
    for table in tree.find_all(exp.Table):
        key = rel_key(table.db or "", table.name)
        if key not in lowered:
            continue
        cols = lowered[key]
        if table.catalog:
            nested.setdefault(table.catalog, {}).setdefault(table.db, {})[table.name] = cols
    if not nested:
        nested = {}
        for (s, t), cols in lowered.items():
            nested.setdefault(s, {})[t] = cols
    try:
        tree = qualify(tree, schema=nested, dialect=dialect, validate_qualify_columns=False)
        tree = pushdown_projections(tree)
        scopes = traverse_scope(tree)
    except SqlglotError as exc:
        raise ValidationFailed(f"sqlglot cannot analyse the model's compiled SQL: {exc}") from exc
    inputs: dict[int, RelKey] = {}
    for table in tree.find_all(exp.Table):
        key = rel_key(table.db or "", table.name)
        if key in lowered:
            inputs[id(table)] = key
    shape = ModelShape()
    used: dict[RelKey, set[str]] = {}
    filters: list[str] = []
    for scope in scopes:
        for col in scope.columns:
            source = scope.sources.get(col.table)
            if isinstance(source, exp.Table) and id(source) in inputs:
                used.setdefault(inputs[id(source)], set()).add(col.name)
        for star in scope.expression.find_all(exp.Star):  # an unexpanded star keeps every column
            if isinstance(star.parent, exp.AggFunc):  # count(*) counts rows, it reads no column
                continue
            for source in scope.sources.values():
                if isinstance(source, exp.Table) and id(source) in inputs:
                    used.setdefault(inputs[id(source)], set()).update(lowered[inputs[id(source)]])
        shape.joins += _join_edges(scope, inputs) + _exists_edges(scope, inputs)
        shape.conditions += _case_conditions(scope, inputs)
        shape.conditions += _where_conditions(scope, inputs)
        shape.windows += _window_rows(scope, inputs)
        filters += _aggregate_filters(scope, inputs)
    if filters and scopes:
        keys = _outputs(scopes[-1], inputs)  # traverse_scope ends with the outermost query
        if keys:
            shape.groups.append(GroupRows(keys, f"a group through {' and '.join(dict.fromkeys(filters))}"))
    # In the input's column order: what users see in the fixture.
    shape.used = {k: [c for c in lowered[k] if c in cols] for k, cols in used.items()}
    return shape
