"""A guardian's contact addresses, and the one place the address limit is enforced.

A verified address holds a slot numbered 1..limit, and ``(guardian, slot)`` is unique in the
database. Two concurrent verifications that pick the same free slot cannot both commit: the
loser sees the unique violation, looks again, and finds no slot left. Pending (unverified)
addresses hold no slot and do not count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import actors, audit
from core.blind_indexes import address_purpose, index
from core.channels import spec
from core.errors import UserError
from core.i18n import _
from core.models import AddressStatus, Channel, ContactAddress


class AddressLimitReached(UserError):
    def __init__(self, limit: int, registered: list[ContactAddress]) -> None:
        super().__init__(_("At most %(limit)d addresses: remove one first.", limit=limit))
        self.limit = limit
        self.registered = registered


class AddressAlreadyRegistered(UserError):
    def __init__(self) -> None:
        super().__init__(_("This address is already registered."))


def address_index(channel: Channel, value: str) -> str:
    return index(address_purpose(channel), value)


def receiving_broadcasts(**where: Any) -> QuerySet[ContactAddress]:
    """The addresses a broadcast goes to: verified, active, and not unsubscribed from broadcasts by
    their owner (core.unsubscribe)."""
    return ContactAddress.filter(
        status=AddressStatus.ACTIVE, slot__isnull=False, broadcasts_stopped_at__isnull=True, **where
    )


async def counted_addresses(guardian_id: int) -> list[ContactAddress]:
    """The addresses that count against the limit, in slot order."""
    return await ContactAddress.filter(guardian_id=guardian_id, slot__isnull=False).order_by("slot")


async def ensure_room(guardian_id: int, channel: Channel, value: str, *, limit: int) -> None:
    """Refuse a new address when the registered ones and those waiting for confirmation fill the
    limit: checked when it is asked for, so that nobody is sent a confirmation that cannot succeed.
    Asking again for an address already waiting (a lost mail) is not a new one."""
    same = (channel, address_index(channel, spec(channel).normalise(value)))
    held = await ContactAddress.filter(guardian_id=guardian_id).only("id", "channel", "value_index")
    if sum((a.channel, a.value_index) != same for a in held) >= limit:
        raise AddressLimitReached(limit, await counted_addresses(guardian_id))


async def add_pending_address(guardian_id: int, channel: Channel, value: str) -> ContactAddress:
    """Record an address waiting for its owner to verify it (it does not count yet)."""
    value = spec(channel).normalise(value)
    try:
        return await ContactAddress.create(
            guardian_id=guardian_id,
            channel=channel,
            value=value,
            value_index=address_index(channel, value),
            lane=spec(channel).lane(value),
            status=AddressStatus.PENDING,
        )
    except IntegrityError:
        raise AddressAlreadyRegistered() from None


async def add_verified_address(guardian_id: int, channel: Channel, value: str, *, limit: int) -> ContactAddress:
    """Register an address already proven to be the guardian's (imported, or replied from)."""
    value = spec(channel).normalise(value)
    index = address_index(channel, value)
    existing = await ContactAddress.get_or_none(guardian_id=guardian_id, channel=channel, value_index=index)
    if existing is not None and existing.slot is not None:
        raise AddressAlreadyRegistered()
    address = existing or ContactAddress(
        guardian_id=guardian_id, channel=channel, value=value, value_index=index, lane=spec(channel).lane(value)
    )
    await claim_slot(address, limit=limit)
    return address


async def claim_slot(address: ContactAddress, *, limit: int) -> None:
    """Mark ``address`` verified and active in a free slot, or raise ``AddressLimitReached``."""
    for _attempt in range(limit + 1):
        taken = await counted_addresses(address.guardian_id)
        free = sorted(set(range(1, limit + 1)) - {a.slot for a in taken})
        if not free:
            raise AddressLimitReached(limit, taken)
        address.slot = free[0]
        address.status = AddressStatus.ACTIVE
        address.verified_at = datetime.now(UTC)
        try:
            async with in_transaction():
                await address.save()
            return
        except IntegrityError:
            address.slot = None
            if await _is_duplicate(address):
                raise AddressAlreadyRegistered() from None
    raise AddressLimitReached(limit, await counted_addresses(address.guardian_id))


async def _is_duplicate(address: ContactAddress) -> bool:
    query = ContactAddress.filter(
        guardian_id=address.guardian_id, channel=address.channel, value_index=address.value_index
    )
    if address.pk is not None:
        query = query.exclude(id=address.pk)
    return await query.exists()


async def remove_addresses(addresses: list[ContactAddress], *, via: str) -> None:
    """Delete addresses at their guardians' request, each audited as the address it was, all or none.

    ``via`` names where they asked ("portal", "line", "telegram"), as preference changes do.
    """
    async with in_transaction():
        for address in addresses:
            await audit.record(
                actors.guardian(address.guardian_id),
                "address.remove",
                target=f"address:{address.id}",
                details={"channel": address.channel.value, "via": via},
            )
            await address.delete()


async def remove_own_address(guardian_id: int, address_id: int, *, via: str, pending_only: bool = False) -> bool:
    """Remove one of the guardian's own addresses (with ``pending_only``, cancel one still waiting
    for confirmation); False when they have none such with that id."""
    query = ContactAddress.filter(id=address_id, guardian_id=guardian_id)
    address = await (query.filter(status=AddressStatus.PENDING) if pending_only else query).first()
    if address is None:
        return False
    await remove_addresses([address], via=via)
    return True
