"""A throwaway PostgreSQL 15 cluster: the one helper for every test that needs one.

The session-wide ``postgres_server`` fixture (conftest) runs one for the
whole test session; a test that restarts PostgreSQL under a running server
(database faults) starts its own. initdb refuses to run as root, so as root
the cluster runs as ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A TCP port nothing listens on now (for a cluster or a server process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_postgres() -> None:
    """Skip the test without PostgreSQL 15 (fail on CI, where it must be there)."""
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL 15 not found in {PG_BIN}: apt-get install -y postgresql"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class PgCluster:
    """initdb, start, stop, start again, destroy; ``url`` names its one database."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
        self.data = self.root / "data"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        self.start()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "frontdesk"')
        self.url = f"postgresql+psycopg://postgres@{self.host}:{self.port}/frontdesk"

    @property
    def admin(self) -> str:
        """A libpq connection string to the ``postgres`` database (to create others)."""
        return f"host={self.host} port={self.port} user=postgres dbname=postgres"

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.root / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr}{tail}")

    def start(self) -> None:
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} -c fsync=off "
            f"-c unix_socket_directories={self.root}"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, new ones refused."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--"] * self.as_root
            + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)
