"""profile_relation on a small DuckDB file whose every statistic is known."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import duckdb
import pytest

from martsmith.context.catalog import Column, Table
from martsmith.context.project import Project
from martsmith.context.warehouse import Warehouse
from martsmith.profiling.profiler import profile_relation

N = 40
NOTE = "Customer asked for gift wrapping and a delivery before the weekend, ref "


@pytest.fixture
def wh(tmp_path: Path):
    """raw.lines: 40 order lines (i = 0..39) with nulls, duplicates, negatives, a composite
    key (order_id, line_no), low-cardinality columns and a timestamp unique by coincidence."""
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute(f"""
        create table raw.lines as select
            i + 1 as id,
            i // 4 + 1 as order_id,
            i % 4 + 1 as line_no,
            case when i % 10 = 0 then null else (i - 5) * 2.5 end::double as amount,
            ['placed', 'shipped', 'completed'][i % 3 + 1] as status,
            case when i % 8 = 0 then null else 'u' || i || '@x.com' end as email,
            '{NOTE}' || (i % 3) as note,
            timestamp '2024-01-01' + to_hours(i) as created_at
        from range({N}) r(i)
    """)
    con.close()
    project = Project(tmp_path, "t", "t", tmp_path, "dev", {"type": "duckdb", "path": str(path)})
    with Warehouse(project) as w:
        sent: list[str] = []
        query = w.query
        w.query = lambda sql, params=None: sent.append(sql) or query(sql, params)  # type: ignore[method-assign]
        w.sent = sent  # type: ignore[attr-defined]
        yield w


def table(wh, *, known: bool = False) -> Table:
    cols = [Column(n, t) for n, t in wh.columns(["raw"])[("raw", "lines")]]
    t = Table("source", "lines", "raw", "lines", source_name="shop", columns=cols)
    if known:  # as build_catalog(profile=True) leaves it: row count and approximate distincts
        t.row_count = N
        for c, d in zip(cols, [40, 10, 4, 36, 3, 35, 3, 40]):
            c.distinct_count = d
    wh.sent.clear()
    return t


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)


def test_exact_statistics(wh):
    p = profile_relation(wh, table(wh))
    assert (p.label, p.relation, p.row_count) == ("source:shop.lines", '"raw"."lines"', N)
    assert [c.name for c in p.columns] == ["id", "order_id", "line_no", "amount", "status", "email", "note", "created_at"]
    assert [c.family for c in p.columns] == ["number", "number", "number", "number", "text", "text", "text", "time"]
    assert [c.null_count for c in p.columns] == [0, 0, 0, 4, 0, 5, 0, 0]
    assert [c.distinct_count for c in p.columns] == [40, 10, 4, 36, 3, 35, 3, 40]
    assert not any(c.distinct_approximate for c in p.columns)

    amounts = [(i - 5) * 2.5 for i in range(N) if i % 10]
    amount = p.column("amount")
    assert (amount.min, amount.max, amount.negative_count) == (-10.0, 85.0, 4)
    assert amount.mean == pytest.approx(statistics.mean(amounts))
    assert amount.stddev == pytest.approx(statistics.stdev(amounts))
    expected = {k: quantile(amounts, q) for k, q in {"p01": .01, "p25": .25, "p50": .5, "p75": .75, "p99": .99}.items()}
    assert amount.quantiles == pytest.approx(expected)
    assert amount.top_values is None  # 36 values > 30

    ident = p.column("id")
    assert (ident.min, ident.max, ident.negative_count) == (1, 40, None)
    assert ident.mean is ident.quantiles is None  # identifiers are labels, not measures

    assert p.column("status").top_values == [("placed", 14), ("completed", 13), ("shipped", 13)]
    assert p.column("line_no").top_values == [(1, 10), (2, 10), (3, 10), (4, 10)]
    assert p.column("order_id").top_values == [(v, 4) for v in range(1, 11)]
    email = p.column("email")
    assert (email.min_length, email.max_length, email.min, email.max, email.top_values) == (8, 9, "u10@x.com", "u9@x.com", None)
    created = p.column("created_at")
    assert (created.min, created.max) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2, 15))


def test_key_candidates(wh):
    p = profile_relation(wh, table(wh))
    # created_at is unique by coincidence in 40 rows: still a candidate; row_count says how much
    # that is worth. The free-text note, the nullable email and the measure amount are not key
    # parts; (order_id, line_no, status) is unique but not minimal.
    assert p.key_candidates == [["id"], ["created_at"], ["order_id", "line_no"]]
    assert profile_relation(wh, table(wh), key_candidates=False).key_candidates == []


def test_query_count_unknown_table(wh):
    p = profile_relation(wh, table(wh))
    # count(*), the profile pass, values of the low-cardinality columns, the key check
    assert p.queries == len(wh.sent) == 4
    assert wh.sent[0] == 'select count(*) from "raw"."lines"'
    assert "histogram" not in wh.sent[1] and "histogram" in wh.sent[2]
    assert 'count(distinct ("order_id", "line_no"))' in wh.sent[3]


def test_query_count_known_table(wh):
    # The catalog knows the row count and the low-cardinality columns: one pass + the key check.
    p = profile_relation(wh, table(wh, known=True))
    assert p.queries == len(wh.sent) == 2
    assert 'histogram("status")' in wh.sent[0]
    assert p.column("status").top_values == [("placed", 14), ("completed", 13), ("shipped", 13)]
    assert p.key_candidates == [["id"], ["created_at"], ["order_id", "line_no"]]
    assert profile_relation(wh, table(wh, known=True), key_candidates=False).queries == 1


def test_approximate_distinct_above_the_limit(wh):
    p = profile_relation(wh, table(wh), exact_distinct_limit=10)
    assert "approx_count_distinct" in wh.sent[1] and "count(distinct" not in wh.sent[1]
    assert p.column("email").distinct_approximate
    assert p.column("email").distinct_count == pytest.approx(35, abs=3)
    # Histograms and the key check make these exact again.
    assert not p.column("status").distinct_approximate and p.column("status").distinct_count == 3
    assert not p.column("id").distinct_approximate and p.column("id").distinct_count == N
    assert p.key_candidates == [["id"], ["created_at"], ["order_id", "line_no"]]


def test_deterministic(wh):
    assert profile_relation(wh, table(wh)).as_dict() == profile_relation(wh, table(wh)).as_dict()


def test_empty_table(wh):
    wh.execute("create table raw.empty (id integer, name varchar)")
    t = Table("model", "empty", "raw", "empty", columns=[Column("id", "INTEGER"), Column("name", "VARCHAR")])
    p = profile_relation(wh, t)
    assert (p.row_count, p.key_candidates, [c.distinct_count for c in p.columns]) == (0, [], [0, 0])
