"""Opening what every command needs: settings, the keyring, the database."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core import sealing
from core.config import Settings
from core.db import close_database, open_database, pending_migrations
from core.errors import UserError
from core.i18n import _n
from core.keyring import Keyring
from core.passwords import Passwords


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sealer: sealing.Sealer
    passwords: Passwords


def cli_actor() -> str:
    """How the audit log names whoever runs a command on this machine."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@asynccontextmanager
async def opened(settings: Settings, *, require_current_schema: bool = True) -> AsyncIterator[Runtime]:
    """Keyring installed, database open (and its schema current), closed again on the way out."""
    sealer = sealing.Sealer(Keyring.open(settings.keyring, create=True))
    sealing.install(sealer)
    await open_database(settings.database_url)
    try:
        if require_current_schema:
            pending = await pending_migrations(settings.database_url)
            if pending:
                raise UserError(
                    _n(
                        "The database schema is not current (%(num)d migration to apply): run %(command)s.",
                        "The database schema is not current (%(num)d migrations to apply): run %(command)s.",
                        len(pending),
                        command="`mimamori db upgrade`",
                    )
                )
        yield Runtime(settings, sealer, Passwords(settings.accounts, sealer))
    finally:
        await close_database()
        sealing.install(None)
