"""The static rules, each on a model that breaks it and one that does not (no warehouse)."""

from __future__ import annotations

import pytest

from martsmith.review.changes import ChangeSet, ModelState, manifest_from_dict
from martsmith.review.checks import dropped_column_findings, join_keys
from martsmith.review.rules import RULES, static_findings, stub_jinja

TESTED = ["unique(id)", "not_null(id)"]


def model(sql: str, *, name: str = "m", path: str = "models/marts/m.sql", **kw) -> ModelState:
    kw.setdefault("tests", TESTED)
    kw.setdefault("description", "One row per order.")
    return ModelState(f"model.p.{name}", name, path, "c", raw_code=sql, **kw)


def found(m: ModelState) -> list[str]:
    return [f.rule for f in static_findings(m)]


CLEAN = "with\n\norders as (\n    select * from {{ ref('stg_orders') }}\n)\n\nselect id, amount from orders\n"


@pytest.mark.parametrize(
    ("rule", "bad", "extra"),
    [
        ("MS001", "select id from {{ source('shop', 'orders') }}", {"sources": [("shop", "orders")]}),
        ("MS006", "with o as (select * from {{ ref('x') }}) select * from o", {}),
        ("MS007", "select id from raw.orders", {}),
        ("MS007", "select id from orders", {}),
        ("MS008", "select id from {{ ref('x') }} limit 10", {}),
        ("MS009", "with unused as (select 1 as a) select id from {{ ref('x') }}", {}),
        ("MS010", "select a.id from {{ ref('x') }} as a cross join {{ ref('y') }} as b", {}),
        ("MS010", "select a.id from {{ ref('x') }} as a, {{ ref('y') }} as b", {}),
    ],
)
def test_each_sql_rule_fires_on_its_pattern(rule, bad, extra):
    assert rule in found(model(bad, **extra))
    assert rule not in found(model(CLEAN))


def test_properties_rules():
    assert found(model(CLEAN, tests=[])) == ["MS005"]
    assert found(model(CLEAN, tests=["not_null(id)"])) == ["MS003"]
    assert found(model(CLEAN, description="")) == ["MS004"]
    assert found(model(CLEAN, description="Orders.")) == ["MS004"]
    assert found(model(CLEAN, tests=["unique_combination_of_columns(combination_of_columns=['a', 'b'])"])) == []


def test_staging_reads_only_its_own_source():
    ok = model("select * from {{ source('shop', 'orders') }}", name="stg_shop__orders", sources=[("shop", "orders")])
    assert found(ok) == []
    other = model(
        "select * from {{ ref('stg_shop__customers') }}", name="stg_shop__orders", refs=["stg_shop__customers"]
    )
    assert found(other) == ["MS002"]


def test_stubbed_jinja_keeps_line_numbers():
    sql = "select\n{{ martsmith.surrogate_key(\n['a']) }} as k\nfrom {{ ref('m') }}\nlimit 1\n"
    assert stub_jinja(sql).splitlines()[4] == "limit 1"
    (finding,) = [f for f in static_findings(model(sql)) if f.rule == "MS008"]
    assert finding.line == 5


def test_join_keys_are_the_joined_sides_columns():
    assert join_keys("select * from a left join b as bb on a.id = bb.a_id and a.x = bb.x") == [("b", ["a_id", "x"])]


def test_a_dropped_column_names_the_children_that_read_it():
    child = model("select total, country from {{ ref('m') }}", name="child")
    other = model("select country from {{ ref('m') }}", name="other")
    (f,) = dropped_column_findings(model(CLEAN), ["country", "total"], ["country", "revenue"], [child, other])
    assert f.rule == "MS012" and "total" in f.message and "child" in f.message and "other" not in f.message


def test_every_rule_has_a_unique_id_and_a_doc():
    assert len({r.id for r in RULES}) == len(RULES) and all(len(r.doc) > 60 for r in RULES)


def test_changes_between_manifests():
    def node(name: str, checksum: str, parents: list[str] = ()) -> dict:
        return {
            "resource_type": "model",
            "name": name,
            "package_name": "p",
            "original_file_path": f"models/{name}.sql",
            "checksum": {"checksum": checksum},
            "depends_on": {"nodes": list(parents)},
        }

    base = {
        "metadata": {"project_name": "p"},
        "nodes": {"model.p.a": node("a", "1"), "model.p.gone": node("gone", "1")},
    }
    head = {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.a": node("a", "2"),
            "model.p.b": node("b", "1", ["model.p.a"]),
            "model.p.new": node("new", "1"),
        },
        "child_map": {"model.p.a": ["model.p.b"]},
    }
    b, h = manifest_from_dict(base), manifest_from_dict(head)
    change = ChangeSet.between(b.models, h.models, h.children)
    assert (change.added, change.modified, change.removed, change.children) == (["b", "new"], ["a"], ["gone"], [])
    only = ChangeSet.between(b.models, {n: m for n, m in h.models.items() if n != "b"}, h.children, {"a"})
    assert (only.added, only.modified, only.removed) == ([], ["a"], [])


def test_the_readme_lists_every_rule_with_its_severity():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for r in RULES:
        assert f"| {r.id} | {r.name} | {r.severity} |" in readme
