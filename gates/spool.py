"""The gate's spool: every passage is written here first, and leaves only once the centre has
acknowledged it. A SQLite file (WAL, full sync), so a power cut or a restart loses nothing.

Photos are sealed (AES-256-GCM) with a key derived from the gate key, since a gate may be
stolen; the event id is the associated data, so a sealed photo moved to another entry does not
open. An entry the centre refused for good (a 4xx about the entry, see gates.uplink) moves to
``rejected`` rather than blocking the queue, and stays there for someone to look at (its photo is
dropped: nobody needs a child's picture to see why an event was refused). An entry that keeps
failing while the centre takes newer ones is moved behind them (``move_behind``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entry (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    tag TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    reader TEXT,
    photo BLOB,
    photo_missing TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""
_NONCE = 12


def photo_key(gate_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mimamori gate spool photos v1").derive(
        gate_key.encode("utf-8")
    )


@dataclass(frozen=True)
class SpoolEntry:
    seq: int
    event_id: UUID
    tag: str
    seen_at: datetime
    reader: str | None
    photo: bytes | None
    photo_missing: str | None
    attempts: int


class Spool:
    """Thread-safe; every call is short and blocking (the worker calls it through a thread)."""

    def __init__(self, path: Path, gate_key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._aead = AESGCM(photo_key(gate_key))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        os.chmod(path, 0o600)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(
        self,
        event_id: UUID,
        tag: str,
        seen_at: datetime,
        *,
        reader: str | None = None,
        photo: bytes | None = None,
        photo_missing: str | None = None,
    ) -> int:
        sealed = self._seal(photo, event_id) if photo else None
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO entry (event_id, tag, seen_at, reader, photo, photo_missing) VALUES (?, ?, ?, ?, ?, ?)",
                (str(event_id), tag, seen_at.isoformat(), reader, sealed, photo_missing),
            )
            return cursor.lastrowid  # type: ignore[return-value]  # set by the INSERT

    def oldest(self) -> SpoolEntry | None:
        return self.next_after(0)

    def next_after(self, seq: int) -> SpoolEntry | None:
        """The entry queued right behind ``seq``, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, event_id, tag, seen_at, reader, photo, photo_missing, attempts"
                " FROM entry WHERE seq > ? ORDER BY seq LIMIT 1",
                (seq,),
            ).fetchone()
        if row is None:
            return None
        seq, event_id, tag, seen_at, reader, sealed, missing, attempts = row
        photo = None
        if sealed is not None:
            try:
                photo = self._unseal(sealed, UUID(event_id))
            except InvalidTag:  # sealed under an earlier gate key
                missing = "the spooled photo could not be opened with this gate key"
        return SpoolEntry(seq, UUID(event_id), tag, datetime.fromisoformat(seen_at), reader, photo, missing, attempts)

    def acknowledged(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entry WHERE seq = ?", (seq,))

    def failed(self, seq: int, error: str) -> None:
        with self._lock:
            self._db.execute("UPDATE entry SET attempts = attempts + 1, last_error = ? WHERE seq = ?", (error, seq))

    def move_behind(self, seq: int) -> None:
        """Queue ``seq`` behind every entry there is now (its attempts and last error go with it)."""
        with self._lock:
            # AUTOINCREMENT gives later entries a seq above the largest ever used, so it stays behind them.
            self._db.execute("UPDATE entry SET seq = (SELECT max(seq) FROM entry) + 1 WHERE seq = ?", (seq,))

    def reject(self, seq: int, reason: str) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO rejected (seq, event_id, tag, seen_at, reason)"
                " SELECT seq, event_id, tag, seen_at, ? FROM entry WHERE seq = ?",
                (reason, seq),
            )
            self._db.execute("DELETE FROM entry WHERE seq = ?", (seq,))

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM entry").fetchone()[0])

    def rejected_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM rejected").fetchone()[0])

    def rejected(self) -> list[tuple[UUID, str]]:
        with self._lock:
            rows = self._db.execute("SELECT event_id, reason FROM rejected ORDER BY seq").fetchall()
        return [(UUID(event_id), reason) for event_id, reason in rows]

    def _seal(self, photo: bytes, event_id: UUID) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, photo, str(event_id).encode())

    def _unseal(self, sealed: bytes, event_id: UUID) -> bytes:
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], str(event_id).encode())
