"""At most two addresses per guardian, also when two registrations race."""

import asyncio

import pytest

from core.addresses import (
    AddressAlreadyRegistered,
    AddressLimitReached,
    add_pending_address,
    add_verified_address,
    claim_slot,
    counted_addresses,
)
from core.models import AddressStatus, Channel
from tests.factories import make_guardian


async def test_a_guardian_registers_two_addresses_and_no_third(database_url) -> None:
    guardian = await make_guardian(emails=["a@example.jp", "b@example.jp"])
    with pytest.raises(AddressLimitReached) as refused:
        await add_verified_address(guardian.id, Channel.LINE, "U123", limit=2)
    assert [a.value for a in refused.value.registered] == ["a@example.jp", "b@example.jp"]
    assert len(await counted_addresses(guardian.id)) == 2


async def test_the_same_address_twice_is_refused_politely(database_url) -> None:
    guardian = await make_guardian(emails=["a@example.jp"])
    with pytest.raises(AddressAlreadyRegistered):
        await add_verified_address(guardian.id, Channel.EMAIL, "Ａ@EXAMPLE.JP", limit=2)


async def test_pending_addresses_do_not_count_until_verified(database_url) -> None:
    guardian = await make_guardian(emails=["a@example.jp"])
    first = await add_pending_address(guardian.id, Channel.EMAIL, "b@example.jp")
    second = await add_pending_address(guardian.id, Channel.EMAIL, "c@example.jp")
    assert first.status is AddressStatus.PENDING and first.slot is None
    await claim_slot(first, limit=2)
    assert first.slot == 2 and first.status is AddressStatus.ACTIVE and first.verified_at
    with pytest.raises(AddressLimitReached):
        await claim_slot(second, limit=2)


async def test_a_removed_address_frees_its_slot(database_url) -> None:
    guardian = await make_guardian(emails=["a@example.jp", "b@example.jp"])
    first = (await counted_addresses(guardian.id))[0]
    await first.delete()
    again = await add_verified_address(guardian.id, Channel.TELEGRAM, "12345", limit=2)
    assert again.slot == 1


async def test_concurrent_registrations_never_exceed_the_limit(database_url) -> None:
    guardian = await make_guardian(emails=["a@example.jp"])
    outcomes = await asyncio.gather(
        *(add_verified_address(guardian.id, Channel.EMAIL, f"n{i}@example.jp", limit=2) for i in range(6)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, AddressLimitReached)]
    assert len(accepted) == 1 and len(refused) == 5, outcomes
    assert sorted(a.slot for a in await counted_addresses(guardian.id)) == [1, 2]
