"""Tokenizing a request: words, numbers, ISO dates, quoted literals and comparison symbols.

>>> [(t.kind, t.text) for t in tokenize("Customers' revenue over $1,000 since 2024-01-01, status 'Completed'")]
... # doctest: +NORMALIZE_WHITESPACE
[('word', 'customers'), ('word', 'revenue'), ('word', 'over'), ('number', '1000'), ('word', 'since'),
 ('date', '2024-01-01'), ('word', 'status'), ('quoted', 'Completed')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from martsmith.plan.lexicon import alternatives, stem

_TOKEN = re.compile(
    r"""
      "(?P<dq>[^"]*)"
    | (?<![\w])'(?P<sq>[^']+)'(?![\w])
    | (?P<date>\d{4}-\d{2}(?:-\d{2})?)(?![\d-])
    | [$€£]?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<suffix>[kKmM](?![a-zA-Z]))?
    | (?P<op>>=|<=|!=|<>|>|<|=)
    | (?P<word>[A-Za-z][A-Za-z0-9]*)
    | (?P<end>[.?!;]+)(?=\s|$)
    """,
    re.VERBOSE,
)


@dataclass
class Token:
    """One token of the request. `text` is lower-case (quoted literals keep their case)."""

    kind: str  # 'word' | 'number' | 'date' | 'quoted' | 'op'
    text: str
    index: int = 0
    number: float | int | None = None
    alts: dict[str, int] = field(default_factory=dict)  # stems it may stand for -> rank
    hyphenated: bool = False  # joined to the word before by a hyphen ('no-shows')

    @property
    def stem(self) -> str:
        return stem(self.text) if self.kind == "word" else self.text


def tokenize(request: str) -> list[Token]:
    """Split a request into tokens. Identifiers split on '_' ("first_name" -> first, name);
    possessives drop ("customer's" -> customer); thousands separators and k/m suffixes on
    numbers are read ("1,000" -> 1000, "5k" -> 5000); currency symbols are dropped."""
    out: list[Token] = []
    # "don't", "hasn't", "can't": the negation is a word of its own.
    request = re.sub(r"(?i)\b(ca|wo)n['’]t\b", r"\1n not", request)
    request = re.sub(r"(?i)n['’]t\b", " not", request)
    for m in _TOKEN.finditer(request):
        if m.group("dq") is not None or m.group("sq") is not None:
            literal = m.group("dq") if m.group("dq") is not None else m.group("sq")
            out.append(Token("quoted", literal))
        elif m.group("date"):
            out.append(Token("date", m.group("date")))
        elif m.group("num"):
            raw = m.group("num").replace(",", "")
            value: float | int = float(raw) if "." in raw else int(raw)
            suffix = (m.group("suffix") or "").lower()
            if suffix:
                value = value * (1000 if suffix == "k" else 1_000_000)
                value = int(value) if float(value).is_integer() else value
            out.append(Token("number", str(value), number=value))
        elif m.group("op"):
            out.append(Token("op", m.group("op")))
        elif m.group("end"):
            # A sentence ends: words on either side never qualify each other.
            if out and out[-1].kind != "end":
                out.append(Token("end", "."))
        else:
            word = m.group("word").lower()
            if word == "s" and out and request[m.start() - 1 : m.start()] in ("'", "’"):
                continue  # possessive 's
            joined = m.start() > 0 and request[m.start() - 1] == "-" and bool(out) and out[-1].kind == "word"
            out.append(Token("word", word, hyphenated=joined))
    for i, t in enumerate(out):
        t.index = i
        if t.kind == "word" and t.text in NUMBER_WORDS and _counts_something(out, i):
            t.kind, t.number = "number", NUMBER_WORDS[t.text]
            t.text = str(t.number)
        if t.kind == "word":
            t.alts = alternatives(t.text)
    return out


NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_CUES = {"least", "most", "than", "exactly", "top", "over", "under", "above", "below", "first", "last"}


def _counts_something(tokens: list[Token], i: int) -> bool:
    """'at least two courses', 'more than one': a number word where a number is read (after a
    comparison or top word); 'one column per', 'the one' stay words."""
    return i > 0 and tokens[i - 1].kind == "word" and tokens[i - 1].text in _NUMBER_CUES
