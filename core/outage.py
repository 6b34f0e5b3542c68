"""Telling a database that is away (restarting, unreachable, locked, out of disk) from a bug.

Every long-running loop and every request handler asks ``is_database_outage``: an outage is
answered with "try again later" (503, a backoff), anything else is a bug and is shown as one.
"""

from __future__ import annotations

import asyncio
import sqlite3

from tortoise.exceptions import DBConnectionError, OperationalError

# SQLite reports every trouble as OperationalError; only these mean "not now", not "wrong SQL".
_SQLITE_OUTAGES = ("locked", "busy", "disk", "full", "unable to open", "readonly", "i/o error")


def is_database_outage(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database cannot be used right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    # OSError: refused, reset, no route (the server is not there); a timeout: it does not answer
    if isinstance(exc, DBConnectionError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, sqlite3.OperationalError | OperationalError) and _sqlite_outage(str(exc)):
        return True
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in str(exc):
        return True  # the connection went away under a running statement
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg comes with tortoise-orm[asyncpg]
        return False
    # InternalClientError: a pooled connection cut mid-operation by the server going away
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        return True
    # class 08 (connection exception), 57P (operator intervention: shutdown, cannot connect now),
    # 53 (insufficient resources: disk full, too many connections)
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and state.startswith(("08", "57P", "53"))


def _sqlite_outage(message: str) -> bool:
    message = message.lower()
    return any(word in message for word in _SQLITE_OUTAGES)
