"""Read back what a prompt fenced as data: every JSON value between <data> and </data>."""

from __future__ import annotations

import json
import re

FENCE = re.compile(r"<data>\n(.*?)\n</data>", re.DOTALL)


def data_of(text: str) -> list:
    """The JSON values (one per line) of every <data> block of `text`, in order."""
    return [json.loads(line) for block in FENCE.findall(text) for line in block.split("\n")]


def outside_data(text: str) -> str:
    """`text` without its <data> blocks: what the prompt says in its own words."""
    return FENCE.sub("<data/>", text)


def tables_of(text: str) -> dict[str, dict]:
    """The tables a prompt shows, by their dbt identity ("source('shop', 'orders')")."""
    return {d["table"]: d for d in data_of(text) if isinstance(d, dict) and "table" in d and "columns" in d}
