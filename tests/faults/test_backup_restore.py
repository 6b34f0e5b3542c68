"""A backup and restore drill, as the README's "Backup and restore" recipe does it: the database
dumped while in use (``pg_dump -Fc`` on PostgreSQL; on SQLite the ``sqlite3 .backup`` command, the
online backup API, which takes what is still in the ``-wal`` file too — a copy of the main file
alone would miss it) and the keyring file copied; both restored into a fresh database on another
path; ``mimamori db upgrade`` and ``mimamori audit verify`` pass, and a guardian logs in on the restored portal and sees the
photo of their child's passage."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from core import accounts
from core.models import Photo, StaffRole
from core.passwords import Passwords
from tests.browser import Browser
from tests.cli.test_admin_commands import ENGLISH
from tests.conftest import REPO
from tests.portal.conftest import Family, family, log_in_guardian, passage_with_photo, start_server  # noqa: F401


def _run(*command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"{command[0]}: {done.stderr}"
    return done.stdout


def _back_up(database_url: str, keyring: Path, into: Path) -> None:
    into.mkdir()
    shutil.copy2(keyring, into / "keyring.json")
    if database_url.startswith("sqlite://"):
        _run("sqlite3", urlsplit(database_url).path, f".backup '{into / 'mimamori.db'}'")
    else:
        _run("pg_dump", "--format=custom", f"--file={into / 'mimamori.dump'}", database_url)


def _restore(database_url: str, backup: Path, into: Path) -> tuple[str, Path]:
    """A fresh database and keyring from ``backup``: (database URL, keyring path)."""
    into.mkdir()
    keyring = into / "keyring.json"
    shutil.copy2(backup / "keyring.json", keyring)
    if database_url.startswith("sqlite://"):
        shutil.copy2(backup / "mimamori.db", into / "mimamori.db")
        return f"sqlite://{into / 'mimamori.db'}", keyring
    restored = urlunsplit(urlsplit(database_url)._replace(path=f"/mimamori_restored_{uuid.uuid4().hex[:12]}"))
    _run("createdb", "--maintenance-db", database_url, urlsplit(restored).path[1:])
    _run("pg_restore", "--no-owner", f"--dbname={restored}", str(backup / "mimamori.dump"))
    return restored, keyring


def _drop(url: str, admin_url: str) -> None:
    if url.startswith("postgres"):
        _run("dropdb", "--maintenance-db", admin_url, "--force", urlsplit(url).path[1:])


@pytest.mark.slow
async def test_a_backup_restored_into_a_fresh_database_verifies_and_shows_the_guardian_their_photo(
    database_url: str,
    keyring_path: Path,
    passwords: Passwords,
    family: Family,
    cli_env: dict[str, str],
    start_server: Callable[..., str],
    tmp_path: Path,
) -> None:
    _, photo = await passage_with_photo(family)
    await accounts.add_staff("kocho", StaffRole.STAFF, [family.site.name], passwords, actor="test")
    if database_url.startswith("sqlite://"):  # what a plain copy of the main file would miss
        assert Path(urlsplit(database_url).path + "-wal").stat().st_size > 0

    _back_up(database_url, keyring_path, tmp_path / "backup")
    await Photo.filter(id=photo.id).delete()  # what the restored system shows must come from the backup
    restored_url, restored_keyring = _restore(database_url, tmp_path / "backup", tmp_path / "restored")
    restored = {"MIMAMORI_DATABASE_URL": restored_url, "MIMAMORI_KEYRING": str(restored_keyring)}
    try:
        command_env = {**cli_env, **restored, **ENGLISH, "PYTHONPATH": str(REPO)}
        _run(sys.executable, "-m", "mimamori", "db", "upgrade", env=command_env)
        verified = _run(sys.executable, "-m", "mimamori", "audit", "verify", env=command_env)
        url = start_server(env=restored)
        async with httpx.AsyncClient(base_url=url) as client:
            guardian = Browser(client)
            assert (await log_in_guardian(guardian, family.guardian)).status_code == 303
            page = await guardian.get(f"/photos/{photo.token}")
            image = await guardian.get(f"/photos/{photo.token}/image")
    finally:
        _drop(restored_url, database_url)
    print(
        f"\nbackup and restore ({'SQLite .backup' if database_url.startswith('sqlite') else 'pg_dump -Fc'}): "
        f"{verified.strip()}; guardian logged in, photo {len(image.content)} bytes, "
        f"identical {image.content == photo.jpeg}"
    )
    assert "chain intact" in verified and not verified.startswith("The audit log: 0 entries")
    assert page.status_code == 200 and family.pupil.name in page.text
    assert image.status_code == 200 and image.content == photo.jpeg
