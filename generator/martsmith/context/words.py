"""The one inflector: singular and plural forms of English words, for table names, key names
and request words alike (`inflection`, with guards for the words it gets wrong).

>>> [singular(w) for w in ["orders", "people", "statuses", "analyses", "movies", "categories", "orchestras"]]
['order', 'person', 'status', 'analysis', 'movie', 'category', 'orchestra']
>>> [singular(w) for w in ["status", "address", "gas", "campus", "data", "this", "ids"]]
['status', 'address', 'gas', 'campus', 'data', 'this', 'id']
>>> plural("person"), plural("category"), plural("status")
('people', 'categories', 'statuses')
"""

from __future__ import annotations

from functools import lru_cache

import inflection

# Words inflection treats as plurals although they are not (or whose singular is never meant
# in a schema): a singular of these is the word itself.
_KEEP = frozenset({"data", "media", "criteria", "metadata", "news", "series", "species", "sales"})
# Endings of singular words that inflection would strip a letter from.
_SINGULAR_ENDINGS = ("ss", "us", "is", "os")
# Singular words ending in -as (most -as words are plurals: areas, ideas, orchestras).
_SINGULAR_AS = frozenset({"alias", "atlas", "bias", "canvas", "christmas", "pancreas", "texas", "kansas", "arkansas"})


@lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """The singular of `word`, lower-cased: orders -> order, people -> person."""
    w = word.lower()
    if len(w) <= 3:
        return w[:-1] if len(w) == 3 and w.endswith("s") and w not in ("gas", "bus", "yes", "has", "was", "its") else w
    if (
        w in _KEEP
        or w in _SINGULAR_AS
        or (w.endswith(_SINGULAR_ENDINGS) and not w.endswith(("sses", "uses", "ises", "oses")))
    ):
        return w
    if w.endswith("as") and not w.endswith("ases"):
        return w[:-1]
    return inflection.singularize(w)


@lru_cache(maxsize=8192)
def plural(word: str) -> str:
    """The plural of `word`, lower-cased: person -> people, category -> categories."""
    return inflection.pluralize(word.lower())
