"""Linking a star description goes through the model planner's index and vocabulary
(plan/linking.py restricted to the source's tables, plan/lexicon.py)."""

from __future__ import annotations

import pytest

from martsmith.errors import PlanError
from martsmith.plan import lexicon
from martsmith.star import link
from martsmith.star.link import link_description, link_words, star_index, words_of
from martsmith.star.plan import plan_star
from tests.star.conftest import catalog, source


def _names(mentions):
    return [m if isinstance(m, str) else m.name for _, m in mentions]


def _tables(shop):
    return [t for t in shop.tables if t.source_name == "shop"]


def test_pairs_tables_by_own_words_and_synonyms(shop):
    mentions, unplaced, area = link_description(
        "sales star: order lines, order_items and customers by day", _tables(shop)
    )
    assert _names(mentions) == ["order_items", "order_items", "customers", "date"]
    assert (unplaced, area) == ([], "sales")


def test_one_synonym_table_lives_in_the_lexicon():
    assert not hasattr(link, "WORD_SYNONYMS")
    assert lexicon.stem("item") in lexicon.alternatives("lines")  # 'order lines' -> order_items
    assert {"star", "fact", "dimensions"} <= lexicon.STAR_WORDS and "calendar" in lexicon.CALENDAR_WORDS


def test_a_word_read_through_a_synonym_is_noted():
    tables = [
        source("clients", {"id": "INTEGER"}, src="s", rows=5),
        source("sales", {"id": "INTEGER", "client_id": "INTEGER", "amount": "DOUBLE"}, src="s", rows=50),
    ]
    links = link_words(words_of("sales with customers"), star_index(tables), {t.label: t for t in tables})
    assert _names(links.mentions) == ["sales", "clients"]
    assert links.readings == ["'customers' in the description is read as clients (a business synonym)"]
    star = plan_star(catalog(*tables), "sales with customers", source="s")
    assert [d.name for d in star.dimensions] == ["dim_client"] and links.readings[0] in star.notes


def test_the_area_word_beats_a_synonym():
    tables = [source("prices", {"id": "INTEGER"}, src="s", rows=5)]
    _, unplaced, area = link_description("sales star", tables)  # 'sales' may mean price: not here
    assert (unplaced, area) == ([], "sales")


def test_an_exact_name_wins_a_tie_and_otherwise_it_is_asked():
    tables = [
        source("customer", {"id": "INTEGER"}, src="s", rows=5),
        source("customers", {"id": "INTEGER"}, src="s", rows=5),
    ]
    mentions, _, _ = link_description("customers", tables)
    assert _names(mentions) == ["customers"]
    tables = [
        source("customers", {"id": "INTEGER"}, src="s", rows=5),
        source("raw_customers", {"id": "INTEGER"}, src="s", rows=5),
    ]
    with pytest.raises(PlanError, match="'customer' could name several tables: customers, raw_customers"):
        link_description("a customer", tables)


def test_unplaced_words_suggest_the_closest_tables(shop):
    with pytest.raises(PlanError) as exc:
        plan_star(shop, "order lines with custmers and flights")
    assert "'custmers' (closest: customers)" in exc.value.message and "'flights'" in exc.value.message
