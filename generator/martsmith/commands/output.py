"""Text for the terminal that came from outside: LLM answers, the request, data values, names in
the warehouse, dbt's messages, file paths.

Any of them may hold terminal escape sequences (clear the screen, retitle the window, hide or
overwrite text), control characters or a megabyte of text. Every command's text output passes
such pieces through `safe` (one text) or `items` (a list); the CLI's error handler passes the
whole message. `for_json` bounds the strings of a `--format json` document (json.dumps escapes
control characters itself).

>>> safe("fine\\x1b[2J\\x1b]0;owned\\x07 \\x1b[31mred\\x1b[0m\\r\\x08 text\\tand\\nlines")
'fine red text\\tand\\nlines'
>>> safe("x" * 30, limit=10)
'xxxxxxxxxx… (20 more characters)'
>>> items(range(300_000), limit=3)
'0, 1, 2, … and 299,997 more values'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import click

FORMAT_KEY = "martsmith.format"  # ctx.meta: the --format a command was given, for the CLI's error handler
MAX_TEXT = 1_000  # one outside text in a summary line: a note, a description, a request, a value
MAX_MESSAGE = 4_000  # an error message (it may list dbt's messages, one per line)
MAX_FILE = 200_000  # a generated file shown by --dry-run
MAX_LINE = 2_000  # one line of such a file (a YAML line may quote a whole request)
MAX_ITEMS = 20  # values of a list shown in a line
MAX_JSON_STRING = 100_000  # a string in a --format json document

# ESC-introduced sequences: CSI (colours, cursor, erase), OSC (window title, hyperlinks,
# clipboard) up to BEL or ST, DCS/SOS/PM/APC strings, and every other two-character escape.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # the one-character C1 forms of CSI and OSC
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?"
)
# C0 controls but \t and \n, DEL, C1 controls (\x9b is a one-character CSI on some terminals),
# and the bidirectional overrides that display text in another order than it is.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def clean(text: Any) -> str:
    """`text` as a string without escape sequences and control characters (\\n and \\t stay)."""
    text = text if isinstance(text, str) else str(text)
    if not text.isprintable():  # fast path: most texts have nothing to strip
        text = _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))
    return text


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters, saying how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def safe(text: Any, limit: int = MAX_TEXT) -> str:
    """An outside text, fit for the terminal: cleaned, then cut to `limit` characters."""
    if isinstance(text, str) and len(text) > 4 * limit + 1_000:
        # Don't clean 10 MB to show 1,000 characters of it: cut first, count on the original.
        head = clean(text[: 4 * limit])
        return f"{head[:limit]}… ({len(text) - min(limit, len(head)):,} more characters)"
    return shorten(clean(text), limit)


def preview(text: str, limit: int = MAX_FILE, line_limit: int = MAX_LINE) -> str:
    """A file's text as --dry-run shows it: safe, every line at most `line_limit` characters.

    >>> preview("a: " + "x" * 10 + "\\nb: 1\\n", line_limit=5)
    'a: xx… (8 more characters)\\nb: 1\\n'
    """
    text = safe(text, limit)
    if any(len(part) > line_limit for part in text.split("\n")):
        text = "\n".join(shorten(part, line_limit) for part in text.split("\n"))
    return text


def line(text: Any, limit: int = MAX_TEXT) -> str:
    """`safe`, on one line: newlines and tabs become spaces (for a text inside a summary line).

    >>> line("two\\nlines  kept\\tapart"), line(0)
    ('two lines  kept apart', '0')
    """
    return "" if text is None else safe(text, limit).replace("\n", " ").replace("\t", " ")


def items(
    values: Iterable[Any],
    *,
    limit: int = MAX_ITEMS,
    what: str = "values",
    sep: str = ", ",
    render: Callable[[Any], str] = str,
    each: int = 80,
) -> str:
    """Up to `limit` values, each made safe (at most `each` characters), then how many more."""
    seq = values if isinstance(values, (list, tuple, range)) else list(values)
    shown = [line(render(v), each) for v in seq[:limit]]
    rest = len(seq) - len(shown)
    return sep.join(shown + ([f"… and {rest:,} more {what}"] if rest > 0 else []))


def for_json(value: Any, limit: int = MAX_JSON_STRING) -> Any:
    """A JSON document with every string longer than `limit` cut, with a marker saying so."""
    if isinstance(value, str):
        return shorten(value, limit)
    if isinstance(value, dict):
        return {k: for_json(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_json(v, limit) for v in value]
    return value


def emit_json(data: Any) -> None:
    """One JSON document on stdout: valid whatever the strings hold (json.dumps escapes control
    characters), with huge strings cut and marked (`for_json`)."""
    click.echo(json.dumps(for_json(json.loads(json.dumps(data, default=str))), indent=2, sort_keys=False))


def progress(message: str, *, quiet: bool = False) -> None:
    """A progress line on stderr (stdout stays clean for --format json); the message may name
    outside things (tables, models): it is made safe."""
    if not quiet:
        click.echo(click.style("· ", fg="cyan") + line(message), err=True)


__all__ = [
    "MAX_FILE",
    "MAX_ITEMS",
    "MAX_MESSAGE",
    "MAX_TEXT",
    "clean",
    "emit_json",
    "for_json",
    "items",
    "line",
    "preview",
    "progress",
    "safe",
    "shorten",
]
