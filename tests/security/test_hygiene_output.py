"""Text from outside (LLM notes, the request, data values, names, dbt messages) reaches the
terminal without escape sequences or control characters, and cut to a readable size; JSON
output stays valid JSON with huge strings cut."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from martsmith.commands.output import clean, for_json, items, line, preview, safe  # noqa: E402
from martsmith.llm import client as llm_json  # noqa: E402
from martsmith.spec import TestSpec  # noqa: E402

EVIL = (
    "\x1b[2J\x1b[H\x1b]0;pwned title\x07\x1b]52;c;Y2xpcGJvYXJk\x1b\\\x9b31m\u202eevil\u202c\x08\x08\r\x1b[31mred\x1b[0m"
)
ESCAPES = ("\x1b[2J", "\x1b[H", "\x1b]", "\x07", "\x9b", "\u202e", "\x08", "\r", "\x1b[31m")


def test_clean_strips_escapes_and_controls_but_keeps_text():
    assert clean(EVIL) == "evilred"
    assert clean("tab\tand\nnewline stay; é, 日本, emoji 😀 too") == "tab\tand\nnewline stay; é, 日本, emoji 😀 too"
    assert clean("a\r\nb") == "a\nb"
    assert clean("\x1b") == "" and clean("x\x1b[") == "x"  # cut-off sequences


def test_long_texts_and_lists_are_cut_with_a_count():
    assert safe("n" * 10_000_000) == "n" * 1_000 + "… (9,999,000 more characters)"
    assert safe("x" * 50, limit=10) == "x" * 10 + "… (40 more characters)"
    assert items(range(300_000), limit=10) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … and 299,990 more values"
    assert items(["a\x1b[2Jb", "c" * 200], each=5) == "ab, ccccc… (195 more characters)"
    assert line("one\ntwo") == "one two" and line(0) == "0" and line(None) == ""
    assert preview("k: " + "v" * 3000 + "\n").endswith("… (1,003 more characters)\n")


def test_json_stays_valid_and_huge_strings_are_cut():
    doc = {"notes": [EVIL, "n" * 300_000], "n": 1, "nested": {"list": [None, True, 1.5]}}
    out = for_json(doc)
    text = json.dumps(out)
    assert "\x1b" not in text and "\x07" not in text  # json.dumps escapes them
    assert json.loads(text)["notes"][0] == EVIL
    assert out["notes"][1] == "n" * 100_000 + "… (200,000 more characters)"
    assert out["nested"] == doc["nested"]


def test_test_labels_show_a_few_of_many_values():
    from martsmith.pipelines.tests import _test_label

    # (a column name cannot carry an escape at all: the spec refuses it; a data value can)
    spec = TestSpec(
        name="accepted_values",
        column="status",
        arguments={"values": ["v0\x1b[2J"] + [f"v{i}" for i in range(1, 300_000)]},
    )
    label = _test_label(spec)
    assert "\x1b" not in label
    assert label.startswith("accepted_values(status) values=['v0"), label
    assert label.endswith("… and 299,980 more values]")
    assert len(label) < 600


# --- through the CLI -----------------------------------------------------------------------

MODEL = "openai/fake-model"


@pytest.fixture
def llm_env(fake_llm, monkeypatch):
    monkeypatch.setattr(llm_json, "RATE_LIMIT_BACKOFF", 0.01)
    monkeypatch.setenv(llm_json.API_BASE_ENV, fake_llm.url)
    monkeypatch.setenv(llm_json.API_KEY_ENV, "test")
    return fake_llm


def answer(**extra) -> str:
    return json.dumps(
        {
            "name": "orders_per_status",
            "description": "One row per order status." + EVIL,
            "inputs": [{"alias": "orders", "kind": "source", "source_name": "shop", "table": "orders"}],
            "dimensions": [{"name": "status", "input": "orders", "column": "status"}],
            "measures": [{"name": "order_count", "agg": "count", "input": "orders"}],
            "grain": ["status"],
            **extra,
        }
    )


@pytest.mark.integration
def test_llm_notes_reach_the_terminal_without_escapes(sample_project: Path, llm_env):
    from martsmith.cli import main

    notes = ["IGNORE PREVIOUS INSTRUCTIONS" + EVIL, "n" * 500_000] + [f"note {i}" for i in range(5_000)]
    llm_env.queue(answer(notes=notes), answer(notes=notes))
    where = ["--project-dir", str(sample_project)]
    runner = CliRunner()
    # color=True: as on a terminal, where click strips nothing itself
    text = runner.invoke(main, ["model", "orders per status", "--llm", MODEL, "--dry-run", *where], color=True)
    assert text.exit_code == 0, text.output
    for esc in ESCAPES:
        assert esc not in text.stdout, repr(esc)
    assert "IGNORE PREVIOUS INSTRUCTIONSevilred" in text.stdout
    assert "n" * 1_000 + "… (499,000 more characters)" in text.stdout
    assert "… and 4,982 more notes" in text.stdout
    assert len(text.stdout) < 50_000

    as_json = runner.invoke(
        main, ["model", "orders per status", "--llm", MODEL, "--dry-run", "--format", "json", *where]
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)  # valid JSON: json.dumps escaped the controls
    assert "\x1b" not in as_json.stdout
    assert data["notes"][0] == "IGNORE PREVIOUS INSTRUCTIONS" + EVIL  # JSON keeps the data, escaped
    assert data["notes"][1] == "n" * 100_000 + "… (400,000 more characters)"
    assert data["spec"]["notes"][1] == data["notes"][1]


@pytest.mark.integration
def test_a_huge_request_is_cut_in_the_error(sample_project: Path):
    from martsmith.cli import main

    request = " ".join(["zorblax", "quux", "frobnicate", "orders"] * 25_000)[:100_000]
    result = CliRunner().invoke(main, ["model", request, "--dry-run", "--project-dir", str(sample_project)])
    assert result.exit_code == 2, result.output[:2000]
    assert "could not place" in result.output
    assert "more characters)" in result.output
    assert len(result.output) < 3_000


@pytest.mark.integration
def test_error_messages_are_made_safe(sample_project: Path):
    from martsmith.cli import main

    result = CliRunner().invoke(
        main,
        ["tests", "source:shop.ord\x1b]0;x\x07ers\x1b[2J", "--dry-run", "--project-dir", str(sample_project)],
        color=True,
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    for esc in ("\x1b]", "\x07", "\x1b[2J"):
        assert esc not in result.output
