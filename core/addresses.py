"""A guardian's contact addresses, and the one place the address limit is enforced.

A verified address holds a slot numbered 1..limit, and ``(guardian, slot)`` is unique in the
database. Two concurrent verifications that pick the same free slot cannot both commit: the
loser sees the unique violation, looks again, and finds no slot left. Pending (unverified)
addresses hold no slot and do not count.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import sealing
from core.channels import spec
from core.errors import UserError
from core.models import AddressStatus, Channel, ContactAddress


class AddressLimitReached(UserError):
    def __init__(self, limit: int, registered: list[ContactAddress]) -> None:
        super().__init__(f"at most {limit} addresses can be registered")
        self.limit = limit
        self.registered = registered


class AddressAlreadyRegistered(UserError):
    def __init__(self) -> None:
        super().__init__("this address is already registered")


def address_index(channel: Channel, value: str) -> str:
    return sealing.installed().blind_index(f"address:{channel.value}", value)


async def counted_addresses(guardian_id: int) -> list[ContactAddress]:
    """The addresses that count against the limit, in slot order."""
    return await ContactAddress.filter(guardian_id=guardian_id, slot__isnull=False).order_by("slot")


async def add_pending_address(guardian_id: int, channel: Channel, value: str) -> ContactAddress:
    """Record an address waiting for its owner to verify it (it does not count yet)."""
    value = spec(channel).normalise(value)
    try:
        return await ContactAddress.create(
            guardian_id=guardian_id,
            channel=channel,
            value=value,
            value_index=address_index(channel, value),
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
    address = existing or ContactAddress(guardian_id=guardian_id, channel=channel, value=value, value_index=index)
    await claim_slot(address, limit=limit)
    return address


async def claim_slot(address: ContactAddress, *, limit: int) -> None:
    """Mark ``address`` verified and active in a free slot, or raise ``AddressLimitReached``."""
    for _ in range(limit + 1):
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
