"""Tortoise's SQLite client, made safe for several processes on one file.

Every transaction starts with ``BEGIN IMMEDIATE`` so a writer takes the lock before it reads
(no deadlock when two processes upgrade read locks), and waits ``busy_timeout`` for it. WAL
mode lets readers go on meanwhile.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

BUSY_TIMEOUT_MS = 30_000


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            if self._connection.in_transaction:  # autocommit mode: a round trip saved when not
                await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("busy_timeout", BUSY_TIMEOUT_MS)
        kwargs.setdefault("synchronous", "NORMAL")
        super().__init__(file_path, **kwargs)

    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient
