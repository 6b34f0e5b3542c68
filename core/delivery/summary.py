"""The state of the outbox for operators: ``mimamori status`` and the staff status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from tortoise.functions import Count, Min

from core.models import Delivery, DeliveryStatus


@dataclass(frozen=True)
class Problem:
    delivery_id: int
    kind: str
    channel: str
    status: str
    error: str | None
    queued_at: datetime


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[tuple[str, str], int]  # (channel, status) -> rows
    oldest_queued: datetime | None
    problems: list[Problem]  # failed or expired recently, newest first


async def queue_summary(*, since: timedelta = timedelta(hours=24), problems: int = 20) -> QueueSummary:
    rows = await Delivery.all().group_by("channel", "status").annotate(n=Count("id")).values("channel", "status", "n")
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    oldest = cast(
        list[datetime | None],
        await Delivery.filter(status=DeliveryStatus.QUEUED).annotate(t=Min("queued_at")).values_list("t", flat=True),
    )
    recent = (
        await Delivery.filter(
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.EXPIRED],
            queued_at__gte=datetime.now(UTC) - since,
        )
        .order_by("-id")
        .limit(problems)
        .values_list("id", "kind", "channel", "status", "last_error", "queued_at")
    )
    return QueueSummary(
        counts={(str(r["channel"]), str(r["status"])): r["n"] for r in rows},
        oldest_queued=oldest[0] if oldest else None,
        problems=[Problem(*row) for row in recent],
    )
