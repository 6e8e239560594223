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
from martsmith.profiling import profiler
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
        query = w.query_native
        w.query_native = lambda sql, params=None: sent.append(sql) or query(sql, params)  # type: ignore[method-assign]
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
    assert [c.name for c in p.columns] == [
        "id",
        "order_id",
        "line_no",
        "amount",
        "status",
        "email",
        "note",
        "created_at",
    ]
    assert [c.family for c in p.columns] == ["number", "number", "number", "number", "text", "text", "text", "time"]
    assert [c.null_count for c in p.columns] == [0, 0, 0, 4, 0, 5, 0, 0]
    assert [c.distinct_count for c in p.columns] == [40, 10, 4, 36, 3, 35, 3, 40]
    assert not any(c.distinct_approximate for c in p.columns)

    amounts = [(i - 5) * 2.5 for i in range(N) if i % 10]
    amount = p.column("amount")
    assert (amount.min, amount.max, amount.negative_count) == (-10.0, 85.0, 4)
    assert amount.mean == pytest.approx(statistics.mean(amounts))
    assert amount.stddev == pytest.approx(statistics.stdev(amounts))
    expected = {
        k: quantile(amounts, q) for k, q in {"p01": 0.01, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p99": 0.99}.items()
    }
    assert amount.quantiles == pytest.approx(expected)
    assert amount.top_values is None  # 36 values > 30

    line_no = p.column("line_no")
    assert (line_no.mean, line_no.stddev) == (2.5, pytest.approx(statistics.stdev([i % 4 + 1 for i in range(N)])))
    assert not amount.quantiles_approximate

    ident = p.column("id")
    assert (ident.min, ident.max, ident.negative_count) == (1, 40, None)
    assert ident.mean is ident.quantiles is None  # identifiers are labels, not measures

    assert p.column("status").top_values == [("placed", 14), ("completed", 13), ("shipped", 13)]
    assert p.column("line_no").top_values == [(1, 10), (2, 10), (3, 10), (4, 10)]
    assert p.column("order_id").top_values == [(v, 4) for v in range(1, 11)]
    email = p.column("email")
    assert (email.min_length, email.max_length, email.min, email.max, email.top_values) == (
        8,
        9,
        "u10@x.com",
        "u9@x.com",
        None,
    )
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
    assert p.queries == len(wh.sent) == 3  # count(*), the profile pass, values and keys together
    assert 'histogram("status")' in wh.sent[2] and 'bitstring_agg("id", 1, 40)' in wh.sent[2]
    # Histograms and the bitmap make these exact again.
    assert not p.column("status").distinct_approximate and p.column("status").distinct_count == 3
    assert not p.column("id").distinct_approximate and p.column("id").distinct_count == N
    # 40 rows are one hash slice: the slice check is the whole table, so the keys are verified.
    assert p.key_candidates == [["id"], ["created_at"], ["order_id", "line_no"]]
    assert p.unverified_key_candidates == []


def test_large_table_path(wh, monkeypatch):
    """The plan for large tables, on 40 rows: thresholds at 10 rows, hash slices of 4 rows."""
    monkeypatch.setattr(profiler, "SLICE_ROWS", 4)
    p = profile_relation(wh, table(wh), exact_distinct_limit=10, exact_quantile_limit=10, top_values_limit=10)
    main, keys = wh.sent[1], wh.sent[2]
    assert "approx_count_distinct" in main and "count(distinct" not in main
    assert "quantile_cont" in main and "% 2 = 0" in main  # quantiles on a hash sample (at least 1 in 2)
    assert 'stddev_samp("line_no"::double)' in main  # BIGINT: squares could overflow exact sums
    assert 'bitstring_agg("id", 1, 40)' in keys and 'count(distinct "created_at")' in keys

    email, amount = p.column("email"), p.column("amount")
    assert email.distinct_approximate and email.distinct_count == pytest.approx(35, abs=3)
    assert not p.column("order_id").distinct_approximate  # 10 values: a histogram, exact
    assert amount.quantiles_approximate and amount.quantiles is not None
    assert p.column("line_no").quantiles_approximate
    assert p.column("id").quantiles is None and not p.column("id").quantiles_approximate
    assert amount.mean == pytest.approx(statistics.mean([(i - 5) * 2.5 for i in range(N) if i % 10]))

    # id is proven by its bitmap; created_at and (order_id, line_no) passed the check of one
    # hash slice but were not verified.
    assert p.key_candidates == [["id"]]
    assert p.unverified_key_candidates == [["created_at"], ["order_id", "line_no"]]
    assert (
        p.as_dict()
        == profile_relation(
            wh, table(wh), exact_distinct_limit=10, exact_quantile_limit=10, top_values_limit=10
        ).as_dict()
    )


def test_large_table_refutes_near_keys(tmp_path: Path, monkeypatch):
    """Nearly unique columns: a bitmap counts the integer one exactly, a hash slice finds the
    duplicates of the text one; neither is a key, verified or not."""
    path = tmp_path / "n.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("""create table raw.near as select
            i + 1 as id,
            case when i % 40 = 7 then i else i + 1 end as ref_no,
            'c' || case when i % 40 = 7 then i - 1 else i end as code
        from range(2000) r(i)""")
    project = Project(tmp_path, "n", "n", tmp_path, "dev", {"type": "duckdb", "path": str(path)})
    monkeypatch.setattr(profiler, "SLICE_ROWS", 250)
    with Warehouse(project) as w:
        cols = [Column(n, t) for n, t in w.columns(["raw"])[("raw", "near")]]
        t = Table("source", "near", "raw", "near", source_name="shop", columns=cols)
        p = profile_relation(w, t, exact_distinct_limit=100, exact_quantile_limit=100)
    assert (p.key_candidates, p.unverified_key_candidates) == ([["id"]], [])
    ref = p.column("ref_no")
    assert (ref.distinct_count, ref.distinct_approximate) == (1950, False)  # counted by the bitmap
    assert p.column("code").distinct_approximate


def test_naive_plan_computes_the_same_profile(wh, monkeypatch):
    """The benchmark's baseline: the same statistics by the same SQL, one query each."""
    options = {"exact_distinct_limit": 10, "exact_quantile_limit": 10}
    monkeypatch.setattr(profiler, "SLICE_ROWS", 4)
    single = profile_relation(wh, table(wh), **options).as_dict()
    assert len(wh.sent) == 3
    wh.sent.clear()
    monkeypatch.setattr(profiler, "run_query", profiler.one_query_per_statistic)
    naive = profile_relation(wh, table(wh), **options).as_dict()
    assert len(wh.sent) > 30
    assert naive == single


def test_deterministic(wh):
    assert profile_relation(wh, table(wh)).as_dict() == profile_relation(wh, table(wh)).as_dict()


def test_empty_table(wh):
    wh.execute("create table raw.empty (id integer, name varchar)")
    t = Table("model", "empty", "raw", "empty", columns=[Column("id", "INTEGER"), Column("name", "VARCHAR")])
    p = profile_relation(wh, t)
    assert (p.row_count, p.key_candidates, [c.distinct_count for c in p.columns]) == (0, [], [0, 0])


def test_exact_moments_of_integers_and_decimals(wh):
    """INTEGER and DECIMAL columns: mean and stddev from exact sums (the same at any thread count)."""
    wh.execute(
        "create table raw.m as select (i % 7)::integer as qty, (i / 4)::decimal(10, 2) as price from range(50) r(i)"
    )
    t = Table("model", "m", "raw", "m", columns=[Column("qty", "INTEGER"), Column("price", "DECIMAL(10,2)")])
    p = profile_relation(wh, t)
    main = next(sql for sql in wh.sent if "squares" in sql)
    assert """sum("qty"::hugeint * "qty")""" in main and """sum("price" * "price")""" in main
    assert "stddev_samp" not in main
    qty = [i % 7 for i in range(50)]
    price = [i / 4 for i in range(50)]
    assert (p.column("qty").mean, p.column("qty").stddev) == pytest.approx(
        (statistics.mean(qty), statistics.stdev(qty))
    )
    assert (p.column("price").mean, p.column("price").stddev) == pytest.approx(
        (statistics.mean(price), statistics.stdev(price))
    )
