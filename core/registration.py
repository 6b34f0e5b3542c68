"""Registering an address with a code, and verifying an address added on the portal.

Every channel shares this: the bot and the mailbox pass on what a guardian typed, the portal
what a guardian clicked. A registration code (printed on the notice, or issued anew on the
portal) is single-use and registers the chat or mail address it was sent from. A wrong code
gets the same answer whether or not an account exists, and guessing is throttled per sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tortoise.transactions import in_transaction

from core import throttle
from core.addresses import (
    AddressAlreadyRegistered,
    AddressLimitReached,
    add_pending_address,
    add_verified_address,
    address_index,
    claim_slot,
    ensure_room,
)
from core.blind_indexes import Purpose, code_index
from core.config import Settings
from core.delivery.outbox import Priority, enqueue, expiry
from core.i18n.languages import DEFAULT
from core.identifiers import compact_code, find_registration_code, new_registration_code
from core.models import AddressStatus, Channel, ContactAddress, Guardian, NoticeKind
from core.preferences import language_of
from core.roster.apply import registration_code_index

GUESSING = throttle.ThrottlePolicy(free_attempts=5, base_delay=timedelta(seconds=30))


class Outcome(StrEnum):
    REGISTERED = "registered"
    ALREADY_REGISTERED = "already_registered"
    WRONG_CODE = "wrong_code"
    NO_CODE = "no_code"  # nothing that looks like a code: not counted as a guess
    THROTTLED = "throttled"
    AT_LIMIT = "at_limit"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    guardian_id: int | None = None
    address: ContactAddress | None = None
    registered: list[ContactAddress] = field(default_factory=list)  # at the limit: what holds the slots
    retry_after: timedelta | None = None


def verification_code_index(code: str) -> str:
    return code_index(Purpose.VERIFICATION_CODE, code)


async def issue_link_code(guardian_id: int) -> str:
    """A fresh single-use registration code for ``guardian_id``; any earlier code stops working."""
    for _ in range(5):
        code = new_registration_code()
        index = registration_code_index(code)
        if not await Guardian.filter(registration_code_index=index).exists():
            await Guardian.filter(id=guardian_id).update(registration_code_index=index, registration_code_used_at=None)
            return code
    raise RuntimeError("could not draw an unused registration code")


async def own_unused_code(guardian_id: int, text: str) -> str | None:
    """The registration code in ``text`` if it is ``guardian_id``'s own and not used yet.

    Asked by that guardian, logged in: the answer says nothing about anyone else's code.
    """
    code = find_registration_code(text)
    if (
        code is None
        or not await Guardian.filter(
            id=guardian_id,
            registration_code_index=registration_code_index(code),
            registration_code_used_at__isnull=True,
        ).exists()
    ):
        return None
    return code


async def register_with_code(text: str, channel: Channel, value: str, *, limit: int) -> Result:
    """Register ``value`` on ``channel`` for the guardian whose unused code ``text`` holds."""
    code = find_registration_code(text)
    if code is None:
        return Result(Outcome.NO_CODE)
    sender = f"register:{channel.value}:{value}"
    wait = await throttle.wait_before_next(sender)
    if wait:
        return Result(Outcome.THROTTLED, retry_after=wait)
    async with in_transaction():
        guardian = await Guardian.select_for_update().get_or_none(
            registration_code_index=registration_code_index(code), registration_code_used_at__isnull=True
        )
        if guardian is not None:
            try:
                address = await add_verified_address(guardian.id, channel, value, limit=limit)
            except AddressAlreadyRegistered:
                return Result(Outcome.ALREADY_REGISTERED, guardian_id=guardian.id)
            except AddressLimitReached as full:
                return Result(Outcome.AT_LIMIT, guardian_id=guardian.id, registered=full.registered)
            guardian.registration_code_used_at = datetime.now(UTC)
            await guardian.save(update_fields=["registration_code_used_at"])
    if guardian is None:
        await throttle.record_failure(sender, GUESSING)
        return Result(Outcome.WRONG_CODE)
    await throttle.reset(sender)
    return Result(Outcome.REGISTERED, guardian_id=guardian.id, address=address)


async def request_verification(guardian_id: int, channel: Channel, value: str, settings: Settings) -> ContactAddress:
    """Add ``value`` as a pending address and queue the mail that lets its owner confirm it.

    Raises ``AddressLimitReached`` when the guardian's addresses, those waiting included, fill the
    limit, and
    ``AddressAlreadyRegistered`` when ``value`` is already one of theirs.
    """
    await ensure_room(guardian_id, channel, value, limit=settings.accounts.max_addresses)
    code = new_registration_code()
    async with in_transaction():
        address = await ContactAddress.get_or_none(
            guardian_id=guardian_id, channel=channel, value_index=address_index(channel, value)
        )
        if address is not None and address.slot is not None:
            raise AddressAlreadyRegistered()
        if address is None:
            address = await add_pending_address(guardian_id, channel, value)
        address.verification_code_index = verification_code_index(code)
        await address.save(update_fields=["verification_code_index"])
        portal = settings.portal.public_url.rstrip("/")
        await enqueue(
            kind=NoticeKind.VERIFICATION,
            fact=f"verification:{address.verification_code_index[:16]}",
            address=address,
            guardian_id=guardian_id,
            payload={"code": code, "link": await _verification_link(portal, code, guardian_id)},
            priority=Priority.TRANSACTIONAL,
            expires_at=expiry(NoticeKind.VERIFICATION, datetime.now(UTC), settings.delivery),
        )
    return address


async def _verification_link(portal: str, code: str, guardian_id: int) -> str:
    """The link in a verification mail; it names the family's language (unless Japanese, the
    default), so that whoever opens it without logging in reads the page in it."""
    link = f"{portal}/verify/{compact_code(code)}"
    language = await language_of(guardian_id)
    return link if language in (None, DEFAULT) else f"{link}?lang={language}"


async def verify_with_code(
    text: str,
    *,
    limit: int,
    guardian_id: int | None = None,
    channel: Channel | None = None,
    value: str | None = None,
    opener: str | None = None,
) -> Result:
    """Confirm a pending address by its code.

    The portal passes the logged-in ``guardian_id``; a mail reply passes the sender's
    ``channel`` and ``value``, which must be the pending address itself. Someone who opened the
    verification link without logging in (a second parent) passes ``opener``, their network
    address for counting guesses: the code, sent to that address only, proves they hold it.
    """
    code = find_registration_code(text)
    if code is None:
        return Result(Outcome.NO_CODE)
    sender = _verifier(guardian_id, channel, value, opener)
    wait = await throttle.wait_before_next(sender)
    if wait:
        return Result(Outcome.THROTTLED, retry_after=wait)
    address = await ContactAddress.get_or_none(
        verification_code_index=verification_code_index(code), status=AddressStatus.PENDING
    )
    if address is not None and opener is None and not _belongs(address, guardian_id, channel, value):
        address = None
    if address is None:
        await throttle.record_failure(sender, GUESSING)
        return Result(Outcome.WRONG_CODE)
    await throttle.reset(sender)
    return await confirm_pending(address, limit=limit)


async def confirm_pending(address: ContactAddress, *, limit: int) -> Result:
    """Give a pending address a slot (a mail reply to its verification mail proves ownership)."""
    try:
        await claim_slot(address, limit=limit)
    except AddressLimitReached as full:
        return Result(Outcome.AT_LIMIT, guardian_id=address.guardian_id, registered=full.registered)
    except AddressAlreadyRegistered:
        return Result(Outcome.ALREADY_REGISTERED, guardian_id=address.guardian_id)
    address.verification_code_index = None
    await address.save(update_fields=["verification_code_index"])
    return Result(Outcome.REGISTERED, guardian_id=address.guardian_id, address=address)


def _verifier(guardian_id: int | None, channel: Channel | None, value: str | None, opener: str | None) -> str:
    if guardian_id is not None:
        return f"verify:{guardian_id}"
    if opener is not None:
        return f"verify-link:{opener}"
    return f"verify:{channel}:{value}"


def _belongs(address: ContactAddress, guardian_id: int | None, channel: Channel | None, value: str | None) -> bool:
    if guardian_id is not None and address.guardian_id != guardian_id:
        return False
    if channel is not None and value is not None:
        return address.channel is channel and address.value_index == address_index(channel, value)
    return guardian_id is not None
