"""Claiming due deliveries for sending, and keeping the queue honest.

A claim is one statement, ``UPDATE … WHERE id IN (the most urgent due rows) RETURNING``: on
PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED``, so any number of workers on any
number of machines share one queue and never claim the same row; on SQLite (3.35+) the statement
holds the write lock, so one claimer at a time. One statement writes each row once (a select and
two updates wrote it twice and cost three round trips). A claimed row is leased; a worker that
dies leaves it ``sending`` until the lease runs out, then it is queued again (at least once: the
duplicates are at most what was in flight).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from tortoise import fields
from tortoise.transactions import in_transaction

from core import metrics
from core.db import placeholder
from core.models import Channel, Delivery, DeliveryStatus, Priority

RENEW_CHUNK = 500


async def claim_batch(
    channels: Iterable[Channel],
    *,
    limit: int,
    lease: timedelta,
    now: datetime,
    skip_lanes: Collection[str] = (),
    skip_bulk_lanes: Collection[str] = (),
    bulk: bool = True,
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries, most urgent first, and lease them; none in
    ``skip_lanes``, and no bulk ones (``Priority.bulk``) in ``skip_bulk_lanes`` (the worker's
    buffers for those lanes are full, core.delivery.lanes), or none at all unless ``bulk``."""
    meta = Delivery._meta
    client = meta.db
    dialect = client.capabilities.dialect
    channel_values = [c.value for c in channels]
    if not channel_values:
        return []
    started = time.perf_counter()
    when = meta.fields_map["next_attempt_at"]
    now_db = when.to_db_value(now, Delivery)
    params: list[Any] = [
        DeliveryStatus.SENDING.value,
        when.to_db_value(now + lease, Delivery),
        now_db,
        DeliveryStatus.QUEUED.value,
        now_db,
    ]
    marks = _Marks(dialect, params)
    channels_in = marks.of(channel_values)
    # Filters on the walk, not orderings: the index is still read in order and stops after LIMIT
    lanes = f" AND lane NOT IN ({marks.of(skip_lanes)})" if skip_lanes else ""
    if not bulk:
        lanes += f" AND priority < {int(Priority.URGENT)}"  # a range of the index: none of bulk is read
    elif skip_bulk_lanes:
        lanes += f" AND (priority < {int(Priority.URGENT)} OR lane NOT IN ({marks.of(skip_bulk_lanes)}))"
    lock = " FOR UPDATE SKIP LOCKED" if dialect != "sqlite" else ""
    table = meta.db_table
    sql = (
        f'UPDATE "{table}" SET status = {marks.at(0)}, lease_until = {marks.at(1)}, attempts = attempts + 1, '
        f"first_tried_at = COALESCE(first_tried_at, {marks.at(2)}) "
        f'WHERE id IN (SELECT id FROM "{table}" WHERE status = {marks.at(3)} AND next_attempt_at <= {marks.at(4)} '
        f"AND channel IN ({channels_in}){lanes} ORDER BY priority, next_attempt_at, id "
        f"LIMIT {marks.of([limit])}{lock}) RETURNING *"
    )
    if dialect == "sqlite":
        rows = await client.execute_query_dict(sql, params)
    else:
        async with in_transaction(client.connection_name) as transaction:
            await transaction.execute_script(_READ_IN_INDEX_ORDER)
            rows = await transaction.execute_query_dict(sql, params)
    claimed = [Delivery._init_from_db(**_datetimes_parsed(row)) for row in rows]
    claimed.sort(key=lambda row: (row.priority, row.next_attempt_at, row.id))  # RETURNING has no order
    metrics.claimed(
        channel_values[0] if len(channel_values) == 1 else "several",
        len(claimed),
        retries=sum(row.attempts > 1 for row in claimed),
        seconds=time.perf_counter() - started,
    )
    return claimed


class _Marks:
    """Bind parameters of one statement, added in the order their markers are written."""

    def __init__(self, dialect: str, params: list[Any]) -> None:
        self._dialect = dialect
        self._params = params

    def at(self, position: int) -> str:
        return placeholder(self._dialect, position + 1)

    def of(self, values: Iterable[Any]) -> str:
        """Markers for ``values``, appended to the parameters."""
        start = len(self._params)
        self._params.extend(values)
        return ", ".join(placeholder(self._dialect, n) for n in range(start + 1, len(self._params) + 1))


# A queue's length swings from none to 100,000 within a minute, far faster than autovacuum's
# statistics follow, so PostgreSQL's estimate of the queued rows is often 1. It then reads every
# queued row with a bitmap scan and sorts them all to take the first LIMIT: with 100,000 queued, 55 ms
# per claim and two thirds of the server's CPU in a broadcast. Walking the (status, priority,
# next_attempt_at, id) index in order stops after LIMIT rows at any queue length.
_READ_IN_INDEX_ORDER = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"

_DATETIME_COLUMNS = tuple(
    column
    for name, column in Delivery._meta.fields_db_projection.items()
    if isinstance(Delivery._meta.fields_map[name], fields.DatetimeField)
)


def _datetimes_parsed(row: dict[str, Any]) -> dict[str, Any]:
    """SQLite returns datetimes as ISO text, which Tortoise parses in pure Python (most of the cost
    of a claim); ``fromisoformat`` reads the same text in C. PostgreSQL's are datetimes already."""
    for column in _DATETIME_COLUMNS:
        if isinstance(value := row[column], str):
            row[column] = datetime.fromisoformat(value)
    return row


async def renew_leases(ids: Collection[int], *, until: datetime) -> int:
    """Extend the leases a live worker still holds (rows waiting in its memory behind a slow or
    hanging peer), so that no housekeeping takes them for a stopped worker's and sends them twice."""
    held = sorted(ids)
    renewed = 0
    for start in range(0, len(held), RENEW_CHUNK):
        renewed += await Delivery.filter(
            id__in=held[start : start + RENEW_CHUNK], status=DeliveryStatus.SENDING
        ).update(lease_until=until)
    return renewed


async def release_stale_leases(now: datetime) -> int:
    """Queue again what a dead worker left in ``sending``; returns how many."""
    return await Delivery.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.QUEUED, lease_until=None, next_attempt_at=now
    )


async def expire_overdue(now: datetime) -> int:
    """Mark queued notices past their expiry as expired rather than deliver them late."""
    return await Delivery.filter(status=DeliveryStatus.QUEUED, expires_at__lt=now).update(
        status=DeliveryStatus.EXPIRED, last_error="expired before it could be delivered"
    )
