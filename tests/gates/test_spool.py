"""The spool: passages kept in order across restarts, photos sealed with the gate key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gates.spool import Spool

KEY = "gate-key-0123456789abcdefghijklmnopqrstuvwxyz"
SEEN = datetime(2026, 11, 26, 7, 58, 10, tzinfo=UTC).astimezone()
PHOTO = b"\xff\xd8\xff\xe0" + b"JPEG-PIXELS-OF-A-CHILD" * 20 + b"\xff\xd9"


def test_entries_survive_a_restart_in_order_until_acknowledged(tmp_path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(path, KEY)
    ids = [uuid.uuid4() for _ in range(3)]
    for n, event_id in enumerate(ids):
        spool.add(
            event_id,
            f"TAG{n}",
            SEEN + timedelta(seconds=n),
            reader="正門",
            photo=PHOTO if n == 0 else None,
            photo_missing=None if n == 0 else "no camera frame",
        )
    spool.close()

    spool = Spool(path, KEY)
    assert spool.depth() == 3
    head = spool.oldest()
    assert (head.event_id, head.tag, head.seen_at, head.reader, head.photo) == (ids[0], "TAG0", SEEN, "正門", PHOTO)
    spool.failed(head.seq, "the centre is unreachable")
    assert spool.oldest().attempts == 1
    spool.acknowledged(head.seq)
    second = spool.oldest()
    assert second.event_id == ids[1] and second.photo is None and second.photo_missing == "no camera frame"
    spool.reject(second.seq, "HTTP 422: event: tag: too long")
    assert spool.oldest().event_id == ids[2] and spool.depth() == 1
    assert spool.rejected() == [(ids[1], "HTTP 422: event: tag: too long")]
    spool.close()


def test_a_stolen_spool_shows_no_photo_and_another_key_opens_none(tmp_path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(path, KEY)
    spool.add(uuid.uuid4(), "TAG0", SEEN, photo=PHOTO)
    spool.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"JPEG-PIXELS-OF-A-CHILD" not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    other = Spool(path, "another-gate-key")
    entry = other.oldest()
    assert entry.photo is None and "could not be opened" in entry.photo_missing
    other.close()


def test_a_stuck_entry_moved_behind_stays_behind_later_ones_too(tmp_path) -> None:
    spool = Spool(tmp_path / "spool.db", KEY)
    ids = [uuid.uuid4() for _ in range(3)]
    for n, event_id in enumerate(ids[:2]):
        spool.add(event_id, f"TAG{n}", SEEN)
    stuck = spool.oldest()
    spool.failed(stuck.seq, "HTTP 500: Internal Server Error")
    spool.move_behind(stuck.seq)
    spool.add(ids[2], "TAG2", SEEN)
    order = []
    while (head := spool.oldest()) is not None:
        order.append((head.event_id, head.attempts))
        spool.acknowledged(head.seq)
    assert order == [(ids[1], 0), (ids[0], 1), (ids[2], 0)]
