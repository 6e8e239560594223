"""A throwaway PostgreSQL for tests: scripts/postgres.sh installs Debian's package when missing,
starts a cluster in a temp directory on a private port, and stops it.

`PostgresServer.start()` returns None (with the reason in `PostgresServer.why_not`) only when
the server binaries are not there and cannot be installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    dbname: str = "postgres"
    why_not: str = ""

    @classmethod
    def start(cls) -> PostgresServer | None:
        installed = subprocess.run([str(SCRIPT), "install"], capture_output=True, text=True)
        if installed.returncode != 0:
            cls.why_not = "PostgreSQL is not installed and cannot be: " + (installed.stderr.strip() or "apt-get failed")
            return None
        base = Path(tempfile.mkdtemp(prefix="martsmith-pg-"))
        os.chmod(base, 0o755)  # the cluster's owner (`postgres` when we are root) must reach it
        server = cls(dir=base / "pg", port=_free_port())
        subprocess.run([str(SCRIPT), "start", str(server.dir), str(server.port)], check=True, capture_output=True)
        return server

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.dir)], capture_output=True)
        try:
            self.dir.parent.rmdir()
        except OSError:
            pass

    def connect(self, dbname: str | None = None):
        import psycopg2  # only the Postgres tests need it

        con = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname or self.dbname)
        con.autocommit = True
        return con

    def create_database(self, name: str) -> str:
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(f'drop database if exists "{name}"')
                cur.execute(f'create database "{name}"')
        finally:
            con.close()
        return name

    def target(self, dbname: str, schema: str = "public") -> dict:
        """A dbt-postgres profile target for `dbname` on this server."""
        return {
            "type": "postgres",
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": "",
            "dbname": dbname,
            "schema": schema,
            "threads": 1,
        }


_SHARED: list[PostgresServer | None] = []


def shared_server() -> PostgresServer | None:
    """One server per test process, whichever test folder asks first (tests/engines and
    tests/render both use it): started on the first call, stopped when the process exits."""
    if not _SHARED:
        import atexit  # only a process that starts a server registers its stop

        server = PostgresServer.start()
        _SHARED.append(server)
        if server is not None:
            atexit.register(server.stop)
    return _SHARED[0]
