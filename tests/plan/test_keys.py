"""Keys inferred through the one inflector: irregular plurals and mixed-case names."""

from __future__ import annotations

import pytest

from martsmith.context.catalog import Column, Table, entity_of, infer_foreign_keys
from martsmith.context.words import singular
from martsmith.plan.lexicon import stem


def table(name: str, *cols: str, pk: str | None = None) -> Table:
    return Table(
        "source",
        name,
        "raw",
        name,
        source_name="s",
        columns=[Column(c, "INTEGER") for c in cols],
        primary_key=pk,
        primary_key_unique=True,
    )


@pytest.mark.parametrize(
    "parent, key",
    [
        ("movies", "movie_id"),
        ("statuses", "status_id"),
        ("people", "person_id"),
        ("analyses", "analysis_id"),
        ("categories", "category_id"),
        ("addresses", "address_id"),
        ("companies", "company_id"),
    ],
)
def test_a_foreign_key_finds_its_plural_table(parent: str, key: str):
    child = table("events", "id", key, pk="id")
    target = table(parent, "id", pk="id")
    fks = infer_foreign_keys([child, target], [])
    assert [(f.column, f.ref_table, f.ref_column) for f in fks] == [(key, f"source:s.{parent}", "id")]


@pytest.mark.parametrize("word", ["movies", "statuses", "people", "analyses", "status", "campus", "data"])
def test_the_catalog_and_the_planner_agree_on_singulars(word: str):
    assert entity_of(word) == singular(word)
    assert stem(word) == stem(singular(word))


def test_mixed_case_primary_keys_are_found(tmp_path):
    from martsmith.context import catalog as cat

    class FakeWarehouse:
        def query(self, sql, params=None):
            return [(3,)]

    people = table("people", "People_ID", "Name")
    people.row_count, people.primary_key_unique = 3, False
    cat._infer_primary_key(FakeWarehouse(), people)
    assert people.primary_key == "People_ID" and people.primary_key_unique
