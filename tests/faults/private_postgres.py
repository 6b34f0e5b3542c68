"""A PostgreSQL server of the test's own, to restart and stop as an operator (or a failover) would,
without touching the machine's shared server that the rest of the suite uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from core import db, sealing
from core.keyring import Keyring
from tests.conftest import TEST_DATABASE_ENV
from tests.net import free_port

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/nonexistent"))


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.port = free_port()
        self.log = root / "postgres.log"

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.data.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data}'\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\nmax_connections = 100\n"
            )
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """As a restart or failover does: open sessions are ended, new ones refused."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> float:
        """Stop, stay down ``down_seconds``, start; returns how long it was away."""
        began = time.monotonic()
        self.stop()
        time.sleep(down_seconds)
        self.start()
        return time.monotonic() - began

    def destroy(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        connection = await asyncpg.connect(self.url().replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    if not os.environ.get(TEST_DATABASE_ENV):
        pytest.skip("PostgreSQL faults run in the PostgreSQL pass of the suite")
    if not (BIN / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries here")
    root = Path(tempfile.mkdtemp(prefix="mimamori-pg-"))
    server = PrivatePostgres(root)
    server.init()
    try:
        yield server
    finally:
        server.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def restartable_database_url(private_postgres: PrivatePostgres, keyring_path: Path) -> AsyncIterator[str]:
    """A migrated database on the private server, open in this process with the test keyring."""
    url = await private_postgres.create_database(f"mimamori_{free_port()}")
    await db.upgrade_schema(url)
    sealing.install(sealing.Sealer(Keyring.open(str(keyring_path))))
    await db.open_database(url)
    yield url
    await db.close_database()
    sealing.install(None)
