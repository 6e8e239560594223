"""The adapter goldens (test_adapters.py) compile and run on a real PostgreSQL: the same server
tests/engines uses, one per test process (tests/engines/postgres.py `shared_server`). On Spark
they use `spark_shop` (tests/conftest.py), the one Spark project of the process."""

from __future__ import annotations

import pytest

from tests.engines.postgres import PostgresServer, shared_server


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    server = shared_server()
    if server is None:
        pytest.skip(PostgresServer.why_not)
    return server
