"""Real engines for the cross-warehouse tests: one throwaway PostgreSQL per test session, and
one local Spark project per test process (Spark runs inside it)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_SCALE
from tests.engines.postgres import PostgresServer, shared_server
from tests.engines.spark import GROUP, why_spark_cannot_run

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A started PostgreSQL (Debian's package, installed when missing), stopped at the end of
    the session (at the exit of the process). Skips only when the server cannot be installed."""
    server = shared_server()  # one per process: tests/render's adapter goldens share it
    if server is None:
        pytest.skip(PostgresServer.why_not)
    yield server


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server, for this test only."""
    return postgres_server.create_database(f"t_{os.getpid()}_{next(_databases)}")


@pytest.fixture(scope="session")
def spark_shop(tmp_path_factory) -> Path:
    """`martsmith init shop --sample --adapter spark`: the sample shop in a local Spark metastore
    (in a temp directory), loaded by the SparkSession of this process, which every Spark test
    of the process then shares (as dbt and martsmith share it in one command)."""
    why = why_spark_cannot_run()
    if why:
        pytest.skip(why)
    from click.testing import CliRunner

    from martsmith.cli import main

    root = tmp_path_factory.mktemp("spark") / "shop"
    result = CliRunner().invoke(
        main, ["init", str(root), "--sample", "--adapter", "spark", "--scale", str(SAMPLE_SCALE)]
    )
    assert result.exit_code == 0, result.output
    return root


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres_server" in names:
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.integration)
        if "spark_shop" in names:
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.xdist_group(GROUP))
