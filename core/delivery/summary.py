"""The state of the outbox for operators: ``mimamori status``, the staff status page and the metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.functions import Count, Min

from core.channels import CHANNELS, spec
from core.db import as_datetime, placeholder
from core.i18n import Message
from core.models import Channel, Delivery, DeliveryStatus, Language
from core.staff_labels import DELIVERY_STATES, NOTICE_KINDS

# named once for every staff page and the command line (core.staff_labels)
STATUS_LABELS: dict[str, Message] = {status.value: label for status, label in DELIVERY_STATES.items()}
KIND_LABELS: dict[str, Message] = {kind.value: label for kind, label in NOTICE_KINDS.items()}


@dataclass(frozen=True)
class Problem:
    delivery_id: int
    kind: str
    channel: str
    status: str
    error: str | None
    queued_at: datetime


@dataclass
class LaneCounts:
    """Delivery to one recipient group (a lane of a channel, core.delivery.lanes)."""

    channel: str
    lane: str  # "" for rows written before lanes
    sent: int = 0
    deferred: int = 0  # queued again after a temporary failure (or a stopped worker), for another try
    failed: int = 0
    waiting: int = 0  # queued or sending, the deferred ones included
    oldest_waiting: datetime | None = None  # when the longest-waiting of them was queued

    def label(self, language: Language | str = Language.JA) -> str:
        """``メール ドコモ``: the channel's name and, when it has several, the group's."""
        try:
            found = spec(Channel(self.channel))
        except ValueError:
            return f"{self.channel} {self.lane}".strip()
        group = found.lane_label(self.lane, language) if len(found.lanes) > 1 else ""
        return f"{found.label(language)} {group}".strip()


@dataclass(frozen=True)
class QueueSummary:
    counts: dict[tuple[str, str], int]  # (channel, status) -> rows
    oldest_queued: datetime | None
    problems: list[Problem]  # failed or expired recently, newest first
    lanes: list[LaneCounts]


async def lane_counts(*, broadcast_id: int | None = None, unsent_only: bool = False) -> list[LaneCounts]:
    """Sent, deferred, failed and waiting by (channel, lane), in the channels' order of lanes; of one
    broadcast, or only of what is not sent yet (the metrics: no scan of the sent history)."""
    client = Delivery._meta.db
    where = []
    params: list[Any] = []
    if broadcast_id is not None:
        params.append(broadcast_id)
        where.append(f"broadcast_id = {placeholder(client.capabilities.dialect, len(params))}")
    if unsent_only:
        where.append("status IN ('queued', 'sending')")
    rows = await client.execute_query_dict(
        "SELECT channel, lane, status, CASE WHEN attempts > 0 THEN 1 ELSE 0 END AS tried, COUNT(*) AS n,"
        f' MIN(queued_at) AS oldest FROM "delivery"{" WHERE " + " AND ".join(where) if where else ""}'
        " GROUP BY channel, lane, status, tried",
        params,
    )
    found: dict[tuple[str, str], LaneCounts] = {}
    for row in rows:
        counts = found.setdefault((row["channel"], row["lane"]), LaneCounts(row["channel"], row["lane"]))
        n, status = int(row["n"]), row["status"]
        if status == DeliveryStatus.SENT.value:
            counts.sent += n
        elif status == DeliveryStatus.FAILED.value:
            counts.failed += n
        elif status in (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value):
            counts.waiting += n
            if status == DeliveryStatus.QUEUED.value and row["tried"]:
                counts.deferred += n
            oldest = as_datetime(row["oldest"])
            counts.oldest_waiting = min(filter(None, (counts.oldest_waiting, oldest)), default=None)
    return sorted(found.values(), key=_in_channel_order)


def _in_channel_order(counts: LaneCounts) -> tuple[int, int, str]:
    channels = list(CHANNELS)
    try:
        channel = Channel(counts.channel)
    except ValueError:
        return (len(channels), 0, counts.channel + counts.lane)
    lanes = CHANNELS[channel].lanes
    return (channels.index(channel), lanes.index(counts.lane) if counts.lane in lanes else len(lanes), counts.lane)


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
        lanes=await lane_counts(),
    )
