"""The fan-out of a confirmed broadcast into the outbox, a batch of guardians at a time.

Each batch is its own short transaction that advances a cursor on the broadcast row, so a
city-wide alert never holds a long transaction or blocks passage notices, and a fan-out
interrupted by a crash resumes where it stopped. It goes to every active address; when
acknowledgement is asked in a category that escalates (``delivery.escalate_categories``), first only
to each guardian's first address (see ``acknowledgements``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from tortoise.transactions import in_transaction

from core.addresses import receiving_broadcasts
from core.broadcasts.scope import Scope, recipients
from core.config import DeliverySettings, Settings
from core.delivery.outbox import BroadcastWave, Recipient, enqueue_broadcast
from core.models import Broadcast, BroadcastCategory, BroadcastStatus, Channel, Priority

URGENT_CATEGORIES = {BroadcastCategory.SUSPICIOUS_PERSON, BroadcastCategory.DISASTER}


async def fanout_pending() -> bool:
    return await Broadcast.filter(status=BroadcastStatus.CONFIRMED).exists()


async def continue_fanouts(settings: Settings) -> int:
    """Fan out every confirmed broadcast a batch at a time; returns deliveries queued."""
    queued = 0
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    confirmed = cast(list[int], await Broadcast.filter(status=BroadcastStatus.CONFIRMED).values_list("id", flat=True))
    for broadcast_id in confirmed:
        while True:
            added, finished = await _fan_out_batch(broadcast_id, settings)
            queued += added
            if finished:
                break
    return queued


async def _fan_out_batch(broadcast_id: int, settings: Settings) -> tuple[int, bool]:
    async with in_transaction():
        broadcast = await Broadcast.filter(id=broadcast_id).select_for_update().first()
        if broadcast is None or broadcast.status is not BroadcastStatus.CONFIRMED:
            return 0, True
        scope = Scope.from_json(broadcast.scope)
        guardian_ids = await recipients(scope, after=broadcast.fanout_cursor, limit=settings.delivery.fanout_batch)
        if not guardian_ids:
            broadcast.status = BroadcastStatus.FANNED_OUT
            broadcast.fanned_out_at = datetime.now(UTC)
            await broadcast.save(update_fields=["status", "fanned_out_at"])
            return 0, True
        priority = Priority.URGENT if broadcast.category in URGENT_CATEGORIES else Priority.NORMAL
        queued = await enqueue_broadcast(
            broadcast,
            chosen_addresses(await addresses_of(guardian_ids), first_only=escalates(broadcast, settings.delivery)),
            settings.delivery,
            wave=BroadcastWave.FAN_OUT,
            priority=priority,
        )
        broadcast.fanout_cursor = guardian_ids[-1]
        await broadcast.save(update_fields=["fanout_cursor"])
        return queued, False


async def addresses_of(guardian_ids: list[int]) -> list[tuple[int, int, int, str, str]]:
    """(guardian id, slot, address id, channel, lane) of the addresses receiving broadcasts."""
    return list(
        await receiving_broadcasts(guardian_id__in=guardian_ids)
        .order_by("guardian_id", "slot")
        .values_list("guardian_id", "slot", "id", "channel", "lane")
    )


def escalates(broadcast: Broadcast, delivery: DeliverySettings) -> bool:
    """Whether ``broadcast`` goes to each guardian's first address first, the other only if it is not
    answered in time (a drill only if it says so: core.broadcasts.answers); else it goes to every
    address at once."""
    return broadcast.ack_requested and broadcast.category.value in delivery.escalate_categories


def chosen_addresses(addresses: list[tuple[int, int, int, str, str]], *, first_only: bool) -> list[Recipient]:
    """The addresses to send to: all, or only each guardian's first (``escalates``)."""
    chosen, seen = [], set()
    for guardian_id, _, address_id, channel, lane in addresses:
        if first_only and guardian_id in seen:
            continue
        seen.add(guardian_id)
        chosen.append(Recipient(address_id, Channel(channel), guardian_id, lane))
    return chosen
