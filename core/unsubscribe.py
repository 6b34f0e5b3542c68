"""Stopping broadcasts to one address, and resuming them: the unsubscribe link and mailto a
broadcast carries (RFC 8058's one-click), and the guardian's addresses page.

A token names the address by its id with a keyed tag (a blind index of its own purpose), so one
cannot be made for another address. A stop holds back broadcasts only: passage notices,
verification codes and answers still go to the address. The guardian's other addresses are told,
once per stop; staff see the guardian as not reached, "unsubscribed from broadcasts".
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from core import actors, audit
from core.blind_indexes import Purpose, index
from core.channels import spec
from core.delivery.outbox import enqueue_to_other_addresses
from core.delivery.transport import UnsubscribeLink
from core.models import Channel, ContactAddress, NoticeKind

log = logging.getLogger(__name__)

STOPPED = "unsubscribed from broadcasts"  # the reason staff read on a broadcast's status page
_TAG_LENGTH = 20  # hex: 80 bits, and the mailto's local part stays within 64 characters
_TOKEN = re.compile(rf"(\d{{1,10}})-([0-9a-f]{{{_TAG_LENGTH}}})")
_LARGEST_ID = 2**31 - 1  # the id column's end: a larger number names no row (and PostgreSQL would refuse it)


def token(address_id: int) -> str:
    return f"{address_id}-{_tag(address_id)}"


def link(address_id: int, public_url: str) -> UnsubscribeLink:
    """What a broadcast to ``address_id`` carries: the page the one-click POST goes to, and its token."""
    value = token(address_id)
    return UnsubscribeLink(url=f"{public_url.rstrip('/')}/unsubscribe/{value}", token=value)


def address_id_of(value: str) -> int | None:
    """The address a token names; None for a token we did not make."""
    match = _TOKEN.fullmatch(value.lower())
    if match is None or int(match.group(1)) > _LARGEST_ID:
        return None
    address_id = int(match.group(1))
    return address_id if match.group(2) == _tag(address_id) else None


async def address_of(value: str) -> ContactAddress | None:
    address_id = address_id_of(value)
    return await ContactAddress.get_or_none(id=address_id) if address_id is not None else None


async def stop_broadcasts(address: ContactAddress, *, via: Channel | str) -> bool:
    """Stop broadcasts to ``address``; False when they were stopped already (nothing recorded, nobody told)."""
    now = datetime.now(UTC)
    async with in_transaction():
        if not await ContactAddress.filter(id=address.id, broadcasts_stopped_at__isnull=True).update(
            broadcasts_stopped_at=now
        ):
            return False
        address.broadcasts_stopped_at = now
        await _audit(address, "address.stop_broadcasts", via)
        await enqueue_to_other_addresses(
            address,
            kind=NoticeKind.BROADCASTS_STOPPED,
            fact=f"broadcasts-stopped:{address.id}:{int(now.timestamp())}",
            payload={"channel": address.channel.value, "address": spec(address.channel).mask(address.value)},
        )
    log.info("address %s: broadcasts stopped by its unsubscribe link (%s)", address.id, via)
    return True


async def resume_broadcasts(guardian_id: int, address_id: int, *, via: Channel | str) -> bool:
    """The guardian resumes broadcasts to one of their addresses; False when they have none with that id."""
    address = await ContactAddress.get_or_none(id=address_id, guardian_id=guardian_id)
    if address is None:
        return False
    async with in_transaction():
        if await ContactAddress.filter(id=address.id, broadcasts_stopped_at__isnull=False).update(
            broadcasts_stopped_at=None
        ):
            await _audit(address, "address.resume_broadcasts", via)
    return True


async def _audit(address: ContactAddress, action: str, via: Channel | str) -> None:
    await audit.record(
        actors.guardian(address.guardian_id),
        action,
        target=f"address:{address.id}",
        details={"channel": address.channel.value, "via": via.value if isinstance(via, Channel) else via},
    )


def _tag(address_id: int) -> str:
    return index(Purpose.UNSUBSCRIBE, str(address_id))[:_TAG_LENGTH]
