"""Registration by code and verification of portal-added addresses, as every channel uses them."""

from __future__ import annotations

import json

import pytest

from core.addresses import AddressLimitReached, counted_addresses
from core.config import Settings
from core.models import AddressStatus, Channel, ContactAddress, Delivery, NoticeKind
from core.registration import (
    Outcome,
    issue_link_code,
    register_with_code,
    request_verification,
    verify_with_code,
)
from tests.factories import make_guardian


def _full_width(code: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "\u3000" for c in code)


async def test_a_code_registers_the_chat_it_came_from_once(database_url: str) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    result = await register_with_code(f"登録 {_full_width(code)}", Channel.LINE, "U123", limit=2)

    assert result.outcome is Outcome.REGISTERED and result.guardian_id == guardian.id
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value, address.status) == (Channel.LINE, "U123", AddressStatus.ACTIVE)
    again = await register_with_code(code, Channel.TELEGRAM, "42", limit=2)
    assert again.outcome is Outcome.WRONG_CODE  # single use: no hint that it ever existed


async def test_a_new_code_replaces_the_old_one(database_url: str) -> None:
    guardian = await make_guardian()
    old = await issue_link_code(guardian.id)
    new = await issue_link_code(guardian.id)
    assert (await register_with_code(old, Channel.LINE, "U1", limit=2)).outcome is Outcome.WRONG_CODE
    assert (await register_with_code(new, Channel.LINE, "U1", limit=2)).outcome is Outcome.REGISTERED


async def test_at_the_limit_the_code_is_kept_and_the_registered_addresses_are_named(database_url: str) -> None:
    guardian = await make_guardian(emails=["a@example.jp", "b@example.jp"])
    code = await issue_link_code(guardian.id)

    result = await register_with_code(code, Channel.TELEGRAM, "42", limit=2)

    assert result.outcome is Outcome.AT_LIMIT
    assert sorted(a.value for a in result.registered) == ["a@example.jp", "b@example.jp"]
    await ContactAddress.filter(guardian_id=guardian.id, value_index=result.registered[0].value_index).delete()
    assert (await register_with_code(code, Channel.TELEGRAM, "42", limit=2)).outcome is Outcome.REGISTERED


async def test_guessing_codes_is_slowed_down_per_sender(database_url: str) -> None:
    outcomes = [(await register_with_code(f"{n:012d}", Channel.TELEGRAM, "666", limit=2)).outcome for n in range(7)]
    assert outcomes[:5] == [Outcome.WRONG_CODE] * 5
    assert Outcome.THROTTLED in outcomes[5:]
    other = await register_with_code("000000000000", Channel.TELEGRAM, "777", limit=2)
    assert other.outcome is Outcome.WRONG_CODE
    assert (await register_with_code("hello", Channel.TELEGRAM, "888", limit=2)).outcome is Outcome.NO_CODE


async def test_an_address_added_on_the_portal_counts_only_once_verified(database_url: str, settings: Settings) -> None:
    guardian = await make_guardian(emails=["a@example.jp"])
    address = await request_verification(guardian.id, Channel.EMAIL, "new@example.jp", settings)

    assert address.status is AddressStatus.PENDING and len(await counted_addresses(guardian.id)) == 1
    notice = await Delivery.get(address_id=address.id)
    assert notice.kind is NoticeKind.VERIFICATION
    code = json.loads(notice.payload)["code"]

    other = await make_guardian()
    assert (await verify_with_code(code, limit=2, guardian_id=other.id)).outcome is Outcome.WRONG_CODE
    assert (
        await verify_with_code(code, limit=2, channel=Channel.EMAIL, value="x@example.jp")
    ).outcome is Outcome.WRONG_CODE
    result = await verify_with_code(f"Re: {code}", limit=2, channel=Channel.EMAIL, value="new@example.jp")
    assert result.outcome is Outcome.REGISTERED
    assert [a.value for a in await counted_addresses(guardian.id)] == ["a@example.jp", "new@example.jp"]


async def test_no_verification_is_started_when_the_slots_are_full(database_url: str, settings: Settings) -> None:
    guardian = await make_guardian(emails=["a@example.jp", "b@example.jp"])
    with pytest.raises(AddressLimitReached):
        await request_verification(guardian.id, Channel.EMAIL, "c@example.jp", settings)
    assert not await Delivery.exists()
