"""Real engines for the cross-warehouse tests: one throwaway PostgreSQL per test session. The one
local Spark project per test process (`spark_shop`) is in tests/conftest.py: tests/render's
adapter goldens share it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.engines.postgres import PostgresServer, shared_server

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


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres_server" in names:
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.integration)
