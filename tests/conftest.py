"""Shared fixtures: a scaffolded sample project, made once per session and copied per test, and
the one Spark project of a test process (tests/engines' Spark scenario and tests/render's adapter
goldens share it: a process has one SparkSession)."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

from tests.engines.spark import GROUP, why_spark_cannot_run

# Before dbt or litellm are imported anywhere: no tracking, no network for the cost map.
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

SAMPLE_SCALE = 0.3  # about 3,000 order items


@pytest.fixture(scope="session")
def sample_project_template(tmp_path_factory) -> Path:
    """`martsmith init shop --sample --scale 0.3`, once per session. Don't modify it: use
    `sample_project`, which gets its own copy."""
    from martsmith.scaffold.init import init_project

    root = tmp_path_factory.mktemp("template") / "shop"
    init_project(root, sample=True, scale=SAMPLE_SCALE)
    return root


@pytest.fixture
def sample_project(sample_project_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the sample project (dbt project 'shop', source 'shop' on schema raw of
    shop.duckdb) in this test's tmp_path. Its DuckDB file is its own."""
    root = tmp_path / "shop"
    # symlinks=True keeps dbt_packages/martsmith pointing at the package; the profile's
    # DuckDB path is relative, so the copy needs no fixing.
    shutil.copytree(sample_project_template, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def spark_shop(tmp_path_factory) -> Path:
    """`martsmith init shop --sample --adapter spark`: the sample shop in a local Spark metastore
    (in a temp directory), loaded by the SparkSession of this process, which every Spark test
    of the process then shares (as dbt and martsmith share it in one command). Defined once,
    here: a second definition would be a second fixture, and a second SparkSession refused."""
    why = why_spark_cannot_run()
    if why:
        pytest.skip(why)
    from click.testing import CliRunner  # only the Spark tests need the CLI here

    from martsmith.cli import main  # same reason

    root = tmp_path_factory.mktemp("spark") / "shop"
    result = CliRunner().invoke(
        main, ["init", str(root), "--sample", "--adapter", "spark", "--scale", str(SAMPLE_SCALE)]
    )
    assert result.exit_code == 0, result.output
    return root


# tests/ is not a package: make tests/fakes importable as `fakes` whatever the import mode.
import sys  # noqa: E402

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(autouse=True)
def llm_cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own LLM answer cache (llm/cache.py), written but not read: a test that
    asks the same prompt twice gets the fake server's next reply, and nothing is written under
    the home folder. A test of the cache itself deletes MARTSMITH_LLM_NO_CACHE."""
    folder = tmp_path_factory.getbasetemp() / f"llm-cache-{next(_CACHE_IDS)}"
    monkeypatch.setenv("MARTSMITH_LLM_CACHE_DIR", str(folder))
    monkeypatch.setenv("MARTSMITH_LLM_NO_CACHE", "1")
    return folder


_CACHE_IDS = itertools.count()


@pytest.fixture
def fake_llm():
    """A started fake OpenAI-compatible server on 127.0.0.1: `.url` (api_base), `.queue(...)`,
    `.requests`."""
    from fakes.openai_server import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        yield server


# Fixtures that build a real dbt project on a real DuckDB file: a test that uses one runs dbt
# (or at least the sample data load), so it is an integration test whatever its module says.
INTEGRATION_FIXTURES = {"sample_project", "sample_project_template"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if INTEGRATION_FIXTURES & names:
            item.add_marker(pytest.mark.integration)
        if "spark_shop" in names:  # Spark runs in the process: its tests share one worker
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.xdist_group(GROUP))


def pytest_xdist_node_collection_finished(node, ids):
    """Under `--dist loadgroup` xdist gives each grouped test's id an `@group` suffix, which is
    what keeps a group on one worker. A pytest that breaks it (9.2: pytest-xdist#1386) spreads
    the Spark tests over both workers — two JVMs, two sample loads — without a word: stop then."""
    if node.config.getoption("dist", None) != "loadgroup":
        return
    spread = [i for i in ids if i.startswith("tests/engines/test_spark_") and "@" not in i.rsplit("]", 1)[-1]]
    if spread:
        raise pytest.UsageError(
            f"--dist loadgroup did not group {spread[0]}: this pytest and pytest-xdist ignore xdist_group "
            "(pytest-dev/pytest-xdist#1386); install the versions pyproject.toml pins (make install)."
        )
