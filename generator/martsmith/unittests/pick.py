"""Pick a few real input rows that exercise a model's branches.

For each input the picker keeps at most `max_rows` rows, chosen greedily in this order of
priority, one row per reason, the first in key order (so the same data gives the same rows):

0. a row that reaches the output: for each input that is not the joined side of a join, a row
   that passes its WHERE filters and has a match in every join it drives (or, when the data has
   none, as close as it gets), and its join partners; without it, a model whose inputs have data
   could get a unit test that expects no rows; and for each window function, a second row in a
   partition staged already that is another row of the window's input (another ORDER BY value
   or group), with its partners: a window over one row tests nothing; and for a filter on an
   aggregate (a HAVING), every row of the smallest group that passes it on the real data, and
   the rows joined to them (up to 4 x max_rows rows);
1. for each join, a left row whose key has a match (and that match on the right) unless one is
   picked already, and a left row whose key has none; for right/full joins also a right row
   without a match;
2. a row for each CASE branch (each WHEN, and the ELSE) and for each WHERE conjunct, one that
   passes and one that is filtered out;
3. a row with a null in each column the model uses;
4. the join partners of the rows picked so far, while there is room.

Rows are staged in TEMP tables of the warehouse session (DuckDB's in memory, never in the
database file; Postgres's pg_temp) and dropped before returning: the warehouse is left unchanged.
Spark's temporary views take no INSERT: there the stage keeps the rows it picked and makes each
input's temporary view of them again after each pick (`RowViews`), through the same queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from martsmith.context.warehouse import quote
from martsmith.unittests.shape import GroupRows, JoinEdge, ModelShape, RelKey, WindowRows

TEMP_PREFIX = "__martsmith_pick_"


class Queries(Protocol):
    """What the picker needs of a warehouse (`Warehouse.query`: DuckDB's spelling in, rows out)."""

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]: ...


@runtime_checkable
class RowViews(Queries, Protocol):
    """A warehouse whose temporary relations take no INSERT (Spark's temporary views): it makes a
    temporary view of given rows instead (`SparkWarehouse.temp_view`). It also runs its own SQL
    (a model compiled for it, which DuckDB may not run) and reads a temporary view's columns."""

    def temp_view(self, name: str, rows: list[dict[str, Any]], like: str) -> None: ...

    def query_native(self, sql: str, params: list[Any] | None = None) -> list[tuple]: ...

    def temp_columns(self, name: str) -> list[tuple[str, str]]: ...


@dataclass
class PickInput:
    """One input of the model: its relation in SQL, the columns the model uses, its key."""

    key: RelKey
    relation: str
    columns: list[str]
    order_by: list[str] = field(default_factory=list)  # the primary key, if known

    @property
    def label(self) -> str:
        return ".".join(self.key)


@dataclass
class Coverage:
    """One behaviour of the model and whether the picked rows exercise it."""

    reason: str
    input: str  # PickInput.label
    covered: bool
    available: bool  # whether the data has such a row at all

    def as_dict(self) -> dict:
        return {"reason": self.reason, "input": self.input, "covered": self.covered, "available": self.available}


@dataclass
class Picked:
    rows: dict[RelKey, list[dict[str, Any]]]
    columns: dict[RelKey, list[str]]
    coverage: list[Coverage]


class _Stage:
    """The temp tables holding the rows picked so far."""

    def __init__(self, wh: Queries, inputs: list[PickInput], max_rows: int) -> None:
        self.wh = wh
        self.inputs = {i.key: i for i in inputs}
        self.tmp = {i.key: f"{TEMP_PREFIX}{n}" for n, i in enumerate(inputs)}
        self.max_rows = max_rows
        for i in inputs:
            self.q(f"create or replace temp table {self.tmp[i.key]} as select {self.cols(i)} from {i.relation} limit 0")

    def q(self, sql: str) -> list[tuple]:
        """Rows of `sql` (DuckDB's spelling, translated for the warehouse's engine)."""
        return self.wh.query(sql)

    @staticmethod
    def cols(i: PickInput, alias: str | None = None) -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + quote(c) for c in i.columns)

    def order(self, i: PickInput, alias: str = "_src", *, staged: bool = False) -> str:
        """The input's key first, then its columns. The staged rows hold only the columns the
        model uses (`staged`): the key is left out there when the model does not select it."""
        keys = [k for k in i.order_by if not staged or k in i.columns]
        keys += [c for c in i.columns if c not in keys]
        return ", ".join(f"{alias}.{quote(c)}" for c in keys)

    def count(self, key: RelKey) -> int:
        return int(self.q(f"select count(*) from {self.tmp[key]}")[0][0])

    def add(self, key: RelKey, where: str, limit: int = 1, *, cap: int | None = None) -> int:
        """Stage up to `limit` new rows of input `key` satisfying `where` (over its columns),
        while it holds fewer than `cap` rows (default: max_rows)."""
        room = min(limit, (self.max_rows if cap is None else cap) - self.count(key))
        if room <= 0:
            return 0
        i = self.inputs[key]
        same = " and ".join(f"_p.{quote(c)} is not distinct from _src.{quote(c)}" for c in i.columns)
        before = self.count(key)
        self.stage(
            key,
            f"select {self.cols(i, '_src')} from {i.relation} as _src "
            f"where ({where}) and not exists (select 1 from {self.tmp[key]} as _p where {same}) "
            f"order by {self.order(i)} limit {room}",
        )
        return self.count(key) - before

    def stage(self, key: RelKey, select: str) -> None:
        """Add the rows of `select` (the input's staged columns) to the temp table of `key`."""
        self.q(f"insert into {self.tmp[key]} {select}")

    def staged_has(self, key: RelKey, where: str) -> bool:
        return bool(self.q(f"select exists (select 1 from {self.tmp[key]} where {where})")[0][0])

    def data_has(self, key: RelKey, where: str) -> bool:
        return bool(self.q(f"select exists (select 1 from {self.inputs[key].relation} where {where})")[0][0])

    def rows(self, key: RelKey) -> list[dict[str, Any]]:
        i = self.inputs[key]
        rows = self.q(
            f"select {self.cols(i, '_src')} from {self.tmp[key]} as _src order by {self.order(i, staged=True)}"
        )
        return [dict(zip(i.columns, r)) for r in rows]

    def drop(self) -> None:
        for name in self.tmp.values():
            self.q(f"drop table if exists temp.{name}")


class _KeptStage(_Stage):
    """The stage on a warehouse whose temp relations take no INSERT: the picked rows are kept
    here, and each addition makes the input's temporary view again, holding them all, with the
    input's column types (the view's name stays, so every query above reads it as a temp table)."""

    def __init__(self, wh: RowViews, inputs: list[PickInput], max_rows: int) -> None:
        self.views = wh
        self.kept: dict[RelKey, list[dict[str, Any]]] = {i.key: [] for i in inputs}
        super().__init__(wh, inputs, max_rows)

    def count(self, key: RelKey) -> int:
        return len(self.kept[key])

    def stage(self, key: RelKey, select: str) -> None:
        i = self.inputs[key]
        new = [dict(zip(i.columns, r)) for r in self.q(select)]
        if new:
            self.kept[key] += new
            self.views.temp_view(self.tmp[key], self.kept[key], like=f"select {self.cols(i)} from {i.relation}")


def _matched(edge: JoinEdge, right_relation: str) -> str:
    return f"({edge.left_key}) in (select ({edge.right_key}) from {right_relation})"


def _unmatched(key_sql: str, other_key: str, other_relation: str) -> str:
    return (
        f"({key_sql}) is not null and ({key_sql}) not in "
        f"(select ({other_key}) from {other_relation} where ({other_key}) is not null)"
    )


def _join_partner(stage: _Stage, edge: JoinEdge, prefer: list[str]) -> None:
    """A right row matching a staged left row that has no staged partner yet, one that also
    satisfies `prefer` if the data has one."""
    keyed = (
        f"({edge.right_key}) in (select ({edge.left_key}) from {stage.tmp[edge.left]} "
        f"where ({edge.left_key}) not in (select ({edge.right_key}) from {stage.tmp[edge.right]} "
        f"where ({edge.right_key}) is not null))"
    )
    for preds in ([keyed, *prefer], [keyed]):
        if stage.add(edge.right, " and ".join(preds)):
            return


def _reaching_output(stage: _Stage, joins: list[JoinEdge], shape: ModelShape) -> list[tuple[str, RelKey, str, str]]:
    """Step 0: a row of each driving input through its filters and joins, with its partners."""
    filters = {k: [c.predicate for c in shape.conditions if c.relation == k and c.passes] for k in stage.inputs}

    def matches(key: RelKey, *, staged: bool) -> list[str]:
        return [
            _through(j, stage.tmp[j.right] if staged else stage.inputs[j.right].relation)
            for j in joins
            if j.left == key
        ]

    joined = {j.right for j in joins}
    drivers = [k for k in stage.inputs if k not in joined] or list(stage.inputs)[:1]
    checks = []
    for key in drivers:
        wanted = filters[key] + matches(key, staged=False)
        for preds in (wanted, filters[key], []):  # the closest row the data has
            if stage.add(key, " and ".join(preds) or "true"):
                break
        if wanted:
            checks.append(
                (
                    f"a row through every filter and join of {stage.inputs[key].label}",
                    key,
                    " and ".join(filters[key] + matches(key, staged=True)),
                    " and ".join(wanted),
                )
            )
    for j in joins:  # in join order, so that a chain a -> b -> c gets b, then c
        if j.side != "anti":  # a partner under `not exists` would take the row out
            _join_partner(stage, j, filters[j.right] + matches(j.right, staged=False))
    return checks


def _through(edge: JoinEdge, right_relation: str) -> str:
    """What a left row needs to pass `edge`: a match, or none under `not exists`."""
    if edge.side == "anti":
        return f"not ({_matched(edge, right_relation)})"
    return _matched(edge, right_relation)


def _tuple(exprs: list[str]) -> str:
    return f"({exprs[0]})" if len(exprs) == 1 else f"row({', '.join(exprs)})"


def _spans(w: WindowRows, relation: str) -> str:
    """True (over any row) when `relation` holds two rows of one partition of window `w`."""
    d = _tuple(w.distinct)
    if not w.partition:
        return f"(select count(distinct {d}) from {relation}) > 1"
    p = _tuple(w.partition)
    return f"{p} in (select {p} from {relation} group by {', '.join(w.partition)} having count(distinct {d}) > 1)"


def _window_rows(
    stage: _Stage, joins: list[JoinEdge], shape: ModelShape, w: WindowRows
) -> tuple[str, RelKey, str, str]:
    """Step 0b: a second row for window `w`: in a partition staged already, a different row of
    the window's input, through the filters and joins if the data has one, with its partners."""
    key = w.relation
    tmp = stage.tmp[key]
    same = [f"{_tuple(w.partition)} in (select {_tuple(w.partition)} from {tmp})"] if w.partition else []
    new = f"{_tuple(w.distinct)} not in (select {_tuple(w.distinct)} from {tmp})"
    through = [c.predicate for c in shape.conditions if c.relation == key and c.passes]
    through += [_through(j, stage.inputs[j.right].relation) for j in joins if j.left == key]
    through += [
        f"({j.right_key}) in (select ({j.left_key}) from {stage.inputs[j.left].relation})"
        for j in joins
        if j.right == key and j.side == "inner"
    ]
    for preds in ([*same, new, *through], [*same, new]):
        if stage.add(key, " and ".join(preds)):
            break
    for j in joins:
        if j.left == key and j.side != "anti":
            _join_partner(stage, j, [])
        elif j.right == key:  # a row of the other side for the new row, so that it is joined
            free = (
                f"({j.left_key}) in (select ({j.right_key}) from {tmp} where ({j.right_key}) not in "
                f"(select ({j.left_key}) from {stage.tmp[j.left]} where ({j.left_key}) is not null))"
            )
            filters = [c.predicate for c in shape.conditions if c.relation == j.left and c.passes]
            for preds in ([free, *filters], [free]):
                if stage.add(j.left, " and ".join(preds)):
                    break
    return (w.reason, key, _spans(w, tmp), _spans(w, stage.inputs[key].relation))


GROUP_ROWS = 4  # a group through a HAVING may hold this many times --rows input rows


def _group_rows(stage: _Stage, joins: list[JoinEdge], g: GroupRows, sql: str) -> tuple[str, RelKey, str, str] | None:
    """Step 0c: every input row of the smallest group that passes the model's filter on an
    aggregate (a HAVING), found by running the model on the real data, and the rows joined to
    them: a group of some of its rows could fail the filter, and the test would expect nothing."""
    rels: dict[RelKey, list[tuple[str, str]]] = {}
    for column, (rel, expr) in g.keys.items():
        if rel in stage.inputs:
            rels.setdefault(rel, []).append((column, expr))
    if not rels:
        return None
    key = max(rels, key=lambda r: len(rels[r]))
    relation = stage.inputs[key].relation
    cols, exprs = [quote(c) for c, _ in rels[key]], [e for _, e in rels[key]]
    k, out = _tuple(exprs), _tuple(cols)
    group = (
        f"{k} = (select {k} from {relation} where {k} in (select {out} from ({sql}) as _model) "
        f"group by {', '.join(exprs)} order by count(*), {', '.join(exprs)} limit 1)"
    )
    cap = stage.max_rows * GROUP_ROWS
    if int(stage.q(f"select count(*) from {relation} where {group}")[0][0]) > cap - stage.max_rows:
        return (g.reason, key, group, group)  # too big a group: left out, and said so
    stage.add(key, group, cap, cap=cap)
    for j in joins:
        if j.right == key:
            stage.add(j.left, f"({j.left_key}) in (select ({j.right_key}) from {relation} where {group})", cap, cap=cap)
        elif j.left == key and j.side != "anti":
            stage.add(
                j.right, f"({j.right_key}) in (select ({j.left_key}) from {relation} where {group})", cap, cap=cap
            )
    return (g.reason, key, group, group)


def _partners(stage: _Stage, edge: JoinEdge, *, limit: int) -> None:
    """Right rows matching the staged left rows, and left rows matching staged right rows."""
    stage.add(edge.right, f"({edge.right_key}) in (select ({edge.left_key}) from {stage.tmp[edge.left]})", limit)
    stage.add(edge.left, f"({edge.left_key}) in (select ({edge.right_key}) from {stage.tmp[edge.right]})", limit)


def pick_rows(
    wh: Queries, inputs: list[PickInput], shape: ModelShape, *, max_rows: int = 5, sql: str | None = None
) -> Picked:
    """At most `max_rows` rows of each input (a group through a HAVING may take more), and what
    they cover (see the module docstring). `wh` is the warehouse that holds every input relation
    (its session keeps the temp tables); `sql`, the model's compiled SQL, finds the groups through a HAVING."""
    stage = _KeptStage(wh, inputs, max_rows) if isinstance(wh, RowViews) else _Stage(wh, inputs, max_rows)
    try:
        known = set(stage.inputs)
        joins = [j for j in shape.joins if j.left in known and j.right in known]
        # reason, input, staged test, data test
        checks: list[tuple[str, RelKey, str, str]] = _reaching_output(stage, joins, shape)
        checks += [_window_rows(stage, joins, shape, w) for w in shape.windows if w.relation in known]
        for g in shape.groups if sql else []:
            check = _group_rows(stage, joins, g, (sql or "").strip().rstrip(";"))
            if check is not None:
                checks.append(check)
        for j in joins:
            left, right = stage.inputs[j.left], stage.inputs[j.right]
            kind = {"semi": "exists", "anti": "not exists"}.get(j.side, f"{j.side} join")
            name = f"{kind} {left.label} -> {right.label} on {j.text}"
            has_match = stage.staged_has(j.left, _matched(j, stage.tmp[j.right]))
            if not has_match and stage.add(j.left, _matched(j, right.relation)):
                _join_partner(stage, j, [])
            checks.append(
                (f"{name}: a key with a match", j.left, _matched(j, stage.tmp[j.right]), _matched(j, right.relation))
            )
            stage.add(j.left, _unmatched(j.left_key, j.right_key, right.relation))
            checks.append(
                (
                    f"{name}: a key without a match",
                    j.left,
                    _unmatched(j.left_key, j.right_key, stage.tmp[j.right]),
                    _unmatched(j.left_key, j.right_key, right.relation),
                )
            )
            if j.side in ("right", "full"):
                stage.add(j.right, _unmatched(j.right_key, j.left_key, left.relation))
                checks.append(
                    (
                        f"{name}: a right key without a match",
                        j.right,
                        _unmatched(j.right_key, j.left_key, stage.tmp[j.left]),
                        _unmatched(j.right_key, j.left_key, left.relation),
                    )
                )
        for c in shape.conditions:
            if c.relation in known:
                stage.add(c.relation, c.predicate)
                checks.append((c.reason, c.relation, c.predicate, c.predicate))
        for i in inputs:
            for col in i.columns:
                pred = f"{quote(col)} is null"
                stage.add(i.key, pred)
                checks.append((f"{col} is null", i.key, pred, pred))
        for _ in range(2):
            for j in joins:
                if j.side != "anti":  # more related rows would only take more rows out
                    _partners(stage, j, limit=max_rows)
        coverage = []
        for reason, key, staged, data in checks:
            covered = stage.staged_has(key, staged)
            available = covered or stage.data_has(key, data)
            coverage.append(Coverage(reason, stage.inputs[key].label, covered, available))
        rows = {i.key: stage.rows(i.key) for i in inputs}
        return Picked(rows=rows, columns={i.key: list(i.columns) for i in inputs}, coverage=coverage)
    finally:
        stage.drop()


__all__ = ["PickInput", "Coverage", "Picked", "RowViews", "pick_rows"]
