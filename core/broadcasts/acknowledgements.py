"""Acknowledgements of a broadcast (a link, a chat button, the portal) and escalation without one.

A broadcast that asks for acknowledgement, in a category that escalates
(``delivery.escalate_categories``), goes first to each guardian's first address only; after
``ack_escalation_minutes`` without acknowledgement, to their other addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from core.addresses import address_index, receiving_broadcasts
from core.config import Settings
from core.delivery.outbox import BroadcastWave, Recipient, enqueue_broadcast, escalation_rows
from core.models import (
    Broadcast,
    BroadcastAck,
    BroadcastStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Priority,
)


async def acknowledge(token: str, *, channel: Channel | None = None) -> Broadcast | None:
    """Record the one-click acknowledgement behind ``token``; None for an unknown token."""
    delivery = await Delivery.get_or_none(ack_token=token).only("id", "broadcast_id", "guardian_id", "channel")
    if delivery is None or delivery.broadcast_id is None or delivery.guardian_id is None:
        return None
    await _record_ack(delivery.broadcast_id, delivery.guardian_id, channel or delivery.channel)
    return await Broadcast.get(id=delivery.broadcast_id)


async def acknowledge_by_address(broadcast_id: int, channel: Channel, address_value: str) -> bool:
    """A chat postback: the chat identifies the guardian(s) it belongs to."""
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    guardian_ids = cast(
        list[int],
        await Delivery.filter(
            broadcast_id=broadcast_id,
            address__value_index=address_index(channel, address_value),
            address__channel=channel,
        ).values_list("guardian_id", flat=True),
    )
    for guardian_id in set(guardian_ids):
        await _record_ack(broadcast_id, guardian_id, channel)
    return bool(guardian_ids)


async def acknowledge_as_guardian(broadcast_id: int, guardian_id: int) -> bool:
    """A logged-in guardian acknowledges on the portal; False when it was never sent to them."""
    if not await Delivery.filter(broadcast_id=broadcast_id, guardian_id=guardian_id).exists():
        return False
    await BroadcastAck.get_or_create(broadcast_id=broadcast_id, guardian_id=guardian_id, defaults={"channel": "portal"})
    return True


async def _record_ack(broadcast_id: int, guardian_id: int, channel: Channel) -> None:
    await BroadcastAck.get_or_create(
        broadcast_id=broadcast_id, guardian_id=guardian_id, defaults={"channel": channel.value}
    )


async def escalate_unacknowledged(settings: Settings, *, now: datetime | None = None) -> int:
    """Send again, on the other channel, what was not acknowledged in time; returns how many."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(minutes=settings.delivery.ack_escalation_minutes)
    window = now - timedelta(hours=settings.delivery.broadcast_expiry_hours)
    queued = 0
    for broadcast in await Broadcast.filter(
        ack_requested=True,
        category__in=settings.delivery.escalate_categories,
        status__in=[BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT],
        confirmed_at__gte=window,
    ):
        queued += await _escalate(broadcast, cutoff, settings)
    return queued


async def _escalate(broadcast: Broadcast, cutoff: datetime, settings: Settings) -> int:
    # An escalated guardian is left out below, so the escalation's own sent rows need no telling apart here.
    sent = dict(
        await Delivery.filter(
            broadcast_id=broadcast.id,
            status=DeliveryStatus.SENT,
            sent_at__lte=cutoff,
        ).values_list("guardian_id", "address_id")
    )
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    acked = set(
        cast(list[int], await BroadcastAck.filter(broadcast_id=broadcast.id).values_list("guardian_id", flat=True))
    )
    escalated = set(
        cast(list[int], await Delivery.filter(escalation_rows(broadcast.id)).values_list("guardian_id", flat=True))
    )
    waiting = [g for g in sent if g not in acked and g not in escalated]
    queued = 0
    for start in range(0, len(waiting), 1000):
        chunk = waiting[start : start + 1000]
        others: list[Recipient] = []
        for address in await receiving_broadcasts(guardian_id__in=chunk).order_by("slot"):
            if address.id == sent[address.guardian_id] or address.guardian_id in escalated:
                continue
            escalated.add(address.guardian_id)
            others.append(Recipient.of(address))
        queued += await enqueue_broadcast(
            broadcast, others, settings.delivery, wave=BroadcastWave.ESCALATION, priority=Priority.URGENT
        )
    return queued
