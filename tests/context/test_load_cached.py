"""load_context with the cache, on the real sample project: a second command plans without dbt,
sees every edit of the project and every change of the warehouse, and builds the same catalog
from the cached manifest as from dbt's."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from martsmith.cli import main
from martsmith.context import cache
from martsmith.context.dbt import Dbt, DbtResult
from martsmith.context.load import load_context
from martsmith.context.project import load_project

pytestmark = pytest.mark.integration


def _load(root: Path):
    return load_context(load_project(root), lambda _: None)


def _no_dbt(monkeypatch) -> None:
    def refuse(self, args):
        raise AssertionError(f"dbt was invoked: {args}")

    monkeypatch.setattr(Dbt, "invoke", refuse)


def _age_warehouse() -> None:
    """The warehouse as a user's would be between commands: not written in the last instant."""
    time.sleep(cache.RACY_SECONDS * 1.5)


def test_the_second_load_starts_no_dbt_and_gives_the_same_context(sample_project, monkeypatch):
    first = _load(sample_project)
    assert first.parsed
    _no_dbt(monkeypatch)
    second = _load(sample_project)
    assert not second.parsed
    assert dataclasses.asdict(second.catalog) == dataclasses.asdict(first.catalog)
    names = lambda m: sorted((n.resource_type, n.name, n.package_name) for n in m.nodes.values())  # noqa: E731
    assert names(second.manifest) == names(first.manifest)


def test_a_catalog_rebuilt_from_the_cached_manifest_equals_one_from_dbt(sample_project, monkeypatch):
    rows = _load(sample_project).catalog.table("source:shop.orders").row_count  # type: ignore[union-attr]
    con = duckdb.connect(str(sample_project / "shop.duckdb"))
    con.execute("insert into raw.orders select * from raw.orders limit 3")
    con.close()
    _age_warehouse()
    monkeypatch.setattr(Dbt, "parse", lambda self: pytest.fail("the manifest is fresh: no parse"))
    from_cache = _load(sample_project)
    monkeypatch.undo()
    (sample_project / "target" / cache.CACHE_FILE).unlink()
    from_dbt = _load(sample_project)
    assert from_dbt.parsed and not from_cache.parsed
    orders = from_cache.catalog.table("source:shop.orders")
    assert orders is not None and orders.row_count == rows + 3  # the warehouse change is seen
    assert dataclasses.asdict(from_cache.catalog) == dataclasses.asdict(from_dbt.catalog)


def test_an_edited_yaml_is_parsed_again(sample_project):
    _load(sample_project)
    yml = sample_project / "models" / "staging" / "shop" / "_shop__sources.yml"
    yml.write_text(yml.read_text().replace("description: Given name.", "description: The first name, as given."))
    ctx = _load(sample_project)
    customers = ctx.catalog.table("source:shop.customers")
    assert ctx.parsed and customers is not None
    assert customers.column("first_name").description == "The first name, as given."


def _dry_run(root: Path, request: str):
    return CliRunner().invoke(main, ["model", request, "--dry-run", "--format", "json", "--project-dir", str(root)])


def test_a_dry_run_after_editing_a_model_yaml_sees_the_change(sample_project):
    request = "number of payments per method"
    before = _dry_run(sample_project, request)
    assert before.exit_code == 0, before.output
    assert "payments" in json.dumps(json.loads(before.output)["spec"]["inputs"])
    # The payments table is no longer a source: a stale manifest would still plan on it.
    yml = sample_project / "models" / "staging" / "shop" / "_shop__sources.yml"
    text = yml.read_text()
    start = text.index("      - name: payments")
    end = text.find("\n      - name: ", start + 1)
    yml.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""))
    after = _dry_run(sample_project, request)
    assert after.exit_code != 0 or "payments" not in json.dumps(json.loads(after.output)["spec"]["inputs"])


def test_a_refusal_on_a_warm_project_never_starts_dbt(sample_project):
    _load(sample_project)
    # In a fresh process, as a user runs it: dbt is neither called nor even imported.
    code = (
        "import sys\n"
        "from martsmith.cli import main\n"
        "try:\n"
        f"    main(['model', 'number of frobnicators per status', '--dry-run', '--project-dir', {str(sample_project)!r}])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('dbt imported', any(m == 'dbt' or m.startswith('dbt.') for m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "exit 2" in proc.stdout, proc.stdout + proc.stderr
    assert "dbt imported False" in proc.stdout
    assert "frobnicators" in proc.stderr and "reading the dbt project" not in proc.stderr


def test_a_refusal_with_yes_plans_from_the_cache_too(sample_project, monkeypatch):
    _load(sample_project)
    _no_dbt(monkeypatch)
    result = CliRunner().invoke(
        main, ["model", "number of frobnicators per status", "--yes", "--project-dir", str(sample_project)]
    )
    assert result.exit_code == 2, result.output


def test_a_build_keeps_its_parse_for_the_next_command(sample_project, monkeypatch):
    """The write stage parses once, builds from that manifest and keeps it: the command after a
    build plans without dbt, on a manifest that has the model just built."""
    built = CliRunner().invoke(
        main,
        [
            "model",
            "number of orders per status",
            "--name",
            "orders_by_status",
            "--yes",
            "--project-dir",
            str(sample_project),
        ],
    )
    assert built.exit_code == 0, built.output
    # manifest.json as a dbt build leaves it (the build started from the parse writes it).
    written = json.loads((sample_project / "target" / "manifest.json").read_text())
    assert "model.shop.orders_by_status" in written["nodes"]
    _no_dbt(monkeypatch)
    monkeypatch.setattr(Dbt, "parse", lambda self, **_: pytest.fail("the kept manifest is fresh: no parse"))
    ctx = _load(sample_project)
    assert not ctx.parsed
    assert "model.shop.orders_by_status" in ctx.manifest.nodes
    assert ctx.catalog.table("orders_by_status") is not None  # built, and read from the warehouse


def test_a_failed_build_keeps_nothing_of_its_parse(sample_project, monkeypatch):
    _load(sample_project)
    kept = (sample_project / "target" / cache.CACHE_FILE).read_text()
    real = Dbt.invoke

    def build_fails(self, args, **kw):
        if args[0] == "build":  # after the write stage's real parse of the new files
            return DbtResult(success=False, error="the build failed")
        return real(self, args, **kw)

    monkeypatch.setattr(Dbt, "invoke", build_fails)
    failing = CliRunner().invoke(
        main, ["model", "number of orders per status", "--yes", "--project-dir", str(sample_project)]
    )
    assert failing.exit_code != 0 and "the build failed" in failing.output, failing.output
    assert (sample_project / "target" / cache.CACHE_FILE).read_text() == kept
    monkeypatch.undo()
    _no_dbt(monkeypatch)
    assert not _load(sample_project).parsed  # the project is as it was, and so is its kept parse
