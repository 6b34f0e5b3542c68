"""Shared fixtures: a fresh, migrated database per test, on SQLite or (when
``MIMAMORI_TEST_DATABASE_URL`` is set) on a private PostgreSQL database; the keyring; the CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core import db, sealing
from core.config import Settings, load_settings
from core.keyring import Keyring
from core.passwords import Passwords
from tests.imapserver import ImapServer

TEST_DATABASE_ENV = "MIMAMORI_TEST_DATABASE_URL"
REPO = Path(__file__).resolve().parent.parent


class _SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"

    async def prepare(self) -> None:
        await db.upgrade_schema(f"sqlite://{self.template}")

    async def create(self) -> str:
        path = self.root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite://{path}"

    async def drop(self, url: str) -> None:
        Path(urlsplit(url).path).unlink(missing_ok=True)

    async def finish(self) -> None:
        pass


class _PostgresDatabases:
    """Each test gets its own database, copied from a migrated template, so concurrent suite
    runs against one server never meet."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"mimamori_tpl_{uuid.uuid4().hex[:12]}"

    def url_of(self, name: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(self.admin_url.replace("postgres://", "postgresql://", 1))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def prepare(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.template}"')
        await db.upgrade_schema(self.url_of(self.template))

    async def create(self) -> str:
        name = f"mimamori_t_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url_of(name)

    async def drop(self, url: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{urlsplit(url).path[1:]}" WITH (FORCE)')

    async def finish(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[object]:
    admin_url = os.environ.get(TEST_DATABASE_ENV)
    factory = _PostgresDatabases(admin_url) if admin_url else _SqliteDatabases(tmp_path_factory.mktemp("databases"))
    await factory.prepare()
    yield factory
    await factory.finish()


@pytest.fixture(scope="session")
def keyring_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keyring.json"
    Keyring.generate(path).save()
    return path


@pytest.fixture
async def empty_database_url(databases) -> AsyncIterator[str]:
    """A migrated, empty database that the test opens itself (or hands to a subprocess)."""
    url = await databases.create()
    yield url
    await db.close_database()
    await databases.drop(url)


@pytest.fixture
async def database_url(empty_database_url: str, keyring_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database, open in this process with the test keyring installed."""
    sealing.install(sealing.Sealer(Keyring.open(str(keyring_path))))
    await db.open_database(empty_database_url)
    yield empty_database_url
    sealing.install(None)


@pytest.fixture
def database_away(database_url: str) -> Callable[[], object]:
    """Makes the database unreachable, as a server that stopped is: this process's connections
    go to a loopback port where nothing listens (the driver's own refusal). Undone after the test."""
    from tortoise import Tortoise

    from tests.net import free_port

    async def away() -> None:
        await db.close_database()
        dead = f"postgres://postgres@127.0.0.1:{free_port()}/gone"
        await Tortoise.init(config=db.tortoise_config(dead), _enable_global_fallback=True)

    return away


# The "not seen" checks run in every scheduler on the real clock: between a school's check time and
# noon on a school day they would tell the guardians of any tagged pupil a test did not pass through a
# gate. Tests of the checks turn them on (tests/core/test_not_seen.py).
NO_ATTENDANCE_CHECKS = {"MIMAMORI_ATTENDANCE__CHECKS": "false"}
os.environ.update(NO_ATTENDANCE_CHECKS)  # every Settings this process loads; subprocess environments add it


@pytest.fixture
def settings(database_url: str, keyring_path: Path, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        data_dir=tmp_path / "var",
        database_url=database_url,
        keyring=str(keyring_path),
        attendance={"checks": False},
    )


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    return Passwords(settings.accounts, sealing.installed())


@pytest.fixture
def mail_sink():
    """A running SMTP server on a free loopback port."""
    from tests.mailsink import MailSink

    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def is_postgres() -> bool:
    return bool(os.environ.get(TEST_DATABASE_ENV))


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


Cli = Callable[..., CliResult]


@pytest.fixture
def cli_env(empty_database_url: str, keyring_path: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env.update(
        MIMAMORI_DATA_DIR=str(tmp_path / "var"),
        MIMAMORI_DATABASE_URL=empty_database_url,
        MIMAMORI_KEYRING=str(keyring_path),
        PYTHONPATH=str(REPO),
        **NO_ATTENDANCE_CHECKS,
    )
    return env


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path) -> Cli:
    """Run ``mimamori ARGS...`` as a separate process, as an administrator would."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
        done = subprocess.run(
            [sys.executable, "-m", "mimamori", *args],
            cwd=tmp_path,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    server = ImapServer().start()
    yield server
    server.remove()
