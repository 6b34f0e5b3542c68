"""Linking a chat to a staff account with a one-time code from the portal.

A linked chat may post alerts (``/alert``) as that staff member; the two-step broadcast API
still asks for a confirmation. Codes live a short while, are single-use, and guessing is
throttled per chat like registration codes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core import actors, audit, throttle
from core.addresses import address_index
from core.blind_indexes import Purpose, code_index
from core.identifiers import new_one_time_password
from core.models import Channel, StaffAccount, StaffAddress, StaffLinkCode
from core.registration import GUESSING

LINK_CODE_LIFETIME = timedelta(minutes=15)


def link_code_index(code: str) -> str:
    return code_index(Purpose.STAFF_LINK_CODE, code)


async def issue_staff_link_code(staff_id: int, *, now: datetime | None = None) -> str:
    """A fresh one-time code (``ABCD-EFGH-JKMN``) for ``staff_id``; earlier codes stop working."""
    now = now or datetime.now(UTC)
    code = new_one_time_password()
    async with in_transaction():
        await StaffLinkCode.filter(staff_id=staff_id).delete()
        await StaffLinkCode.create(
            staff_id=staff_id, code_index=link_code_index(code), expires_at=now + LINK_CODE_LIFETIME
        )
    return code


async def link_chat(code: str, channel: Channel, value: str) -> StaffAccount | None | timedelta:
    """Link the chat ``value`` to the staff account whose live code ``code`` is.

    Returns the account, None for a wrong or expired code, or the wait when throttled.
    """
    sender = f"staff-link:{channel.value}:{value}"
    wait = await throttle.wait_before_next(sender)
    if wait:
        return wait
    async with in_transaction():
        found = await StaffLinkCode.select_for_update().get_or_none(
            code_index=link_code_index(code), expires_at__gt=datetime.now(UTC)
        )
        staff = await StaffAccount.get_or_none(id=found.staff_id, disabled_at__isnull=True) if found else None
        if found is not None and staff is not None:
            await found.delete()
            index = address_index(channel, value)
            # A chat speaks for one staff member: linking it again moves it.
            await StaffAddress.filter(channel=channel, value_index=index).delete()
            await StaffAddress.create(
                staff=staff, channel=channel, value=value, value_index=index, verified_at=datetime.now(UTC)
            )
            await audit.record(
                actors.staff(staff, channel),
                "staff.chat_linked",
                target=f"staff:{staff.id}",
                details={"channel": channel.value},
            )
    if staff is None:
        await throttle.record_failure(sender, GUESSING)
        return None
    await throttle.reset(sender)
    return staff


async def staff_for_chat(channel: Channel, value: str) -> StaffAccount | None:
    """The enabled staff account this chat is linked to, if any."""
    linked = await StaffAddress.get_or_none(
        channel=channel, value_index=address_index(channel, value), verified_at__isnull=False
    )
    if linked is None:
        return None
    return await StaffAccount.get_or_none(id=linked.staff_id, disabled_at__isnull=True)


async def link_device(staff: StaffAccount, value: str) -> None:
    """A staff member's own device (web push), subscribed in their logged-in session: the session
    proves it is theirs, as for a guardian's. Linking it again (another account on the same
    browser) moves it, as for a chat."""
    index = address_index(Channel.WEBPUSH, value)
    async with in_transaction():
        await StaffAddress.filter(channel=Channel.WEBPUSH, value_index=index).delete()
        await StaffAddress.create(
            staff=staff, channel=Channel.WEBPUSH, value=value, value_index=index, verified_at=datetime.now(UTC)
        )
        await audit.record(
            actors.staff(staff), "staff.chat_linked", target=f"staff:{staff.id}", details={"channel": "webpush"}
        )
