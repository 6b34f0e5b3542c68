"""Counting the SQL a piece of code sends: for tests and benches that guard the work per request.

``counting_statements()`` wraps the drivers' entry points (aiosqlite on SQLite, asyncpg on
PostgreSQL) for the duration of a ``with`` block and records each statement, ``BEGIN`` and
``COMMIT`` included. ``round_trips`` counts the calls that waited on the database: on SQLite a
hop to aiosqlite's thread, on PostgreSQL a message exchange with the server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg

_SQLITE = ("execute", "execute_insert", "execute_fetchall", "executemany", "executescript")
POOL_RESET = "SELECT pg_advisory_unlock_all()"
_POSTGRES = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    round_trips: int = 0

    @property
    def queries(self) -> list[str]:
        """The statements the code sent, without asyncpg's pool resetting a released connection."""
        return [s for s in self.statements if not s.startswith(POOL_RESET)]

    def of(self, verb: str) -> list[str]:
        return [s for s in self.statements if s.split(None, 1)[0].upper() == verb.upper()]


def _wrap(counted: Counted, method: Any, name: str, *, trip: bool) -> Any:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        counted.statements.append(" ".join(str(args[0]).split()) if args else name.upper())
        counted.round_trips += trip
        return await method(self, *args, **kwargs)

    return wrapper


@contextmanager
def counting_statements() -> Iterator[Counted]:
    counted = Counted()
    patched: list[tuple[type, str, Any]] = []

    def patch(cls: type, name: str, replacement: Any) -> None:
        patched.append((cls, name, cls.__dict__[name]))
        setattr(cls, name, replacement)

    for name in _SQLITE:
        patch(aiosqlite.Connection, name, _wrap(counted, getattr(aiosqlite.Connection, name), name, trip=False))
    for name in ("commit", "rollback"):
        patch(aiosqlite.Connection, name, _wrap(counted, getattr(aiosqlite.Connection, name), name, trip=False))
    original_execute = aiosqlite.Connection._execute

    async def _execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted.round_trips += 1
        return await original_execute(self, fn, *args, **kwargs)

    patch(aiosqlite.Connection, "_execute", _execute)
    for name in _POSTGRES:
        patch(
            asyncpg.connection.Connection,
            name,
            _wrap(counted, getattr(asyncpg.connection.Connection, name), name, trip=True),
        )
    try:
        yield counted
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)
