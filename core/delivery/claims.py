"""Claiming due deliveries for sending, and keeping the queue honest.

On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``, so any number of workers on any number of
machines share one queue and never claim the same row. On SQLite every transaction begins
IMMEDIATE (core.sqlite_engine), so one claimer at a time holds the write lock. A claimed row is
leased; a worker that dies leaves it ``sending`` until the lease runs out, then it is queued
again (at least once: the duplicates are at most what was in flight).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.models import Channel, Delivery, DeliveryStatus


async def claim_batch(
    channels: Iterable[Channel], *, limit: int, lease: timedelta, now: datetime
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries, most urgent first, and lease them."""
    async with in_transaction():
        rows = (
            await Delivery.filter(
                status=DeliveryStatus.QUEUED,
                next_attempt_at__lte=now,
                channel__in=[c.value for c in channels],
            )
            .order_by("priority", "next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        if not rows:
            return []
        ids = [row.id for row in rows]
        await Delivery.filter(id__in=ids).update(
            status=DeliveryStatus.SENDING, lease_until=now + lease, attempts=F("attempts") + 1
        )
        await Delivery.filter(id__in=ids, first_tried_at__isnull=True).update(first_tried_at=now)
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.attempts += 1
        row.first_tried_at = row.first_tried_at or now
    return rows


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
