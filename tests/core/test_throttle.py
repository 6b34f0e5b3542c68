"""Repeated failures slow a key down, never lock it out for good."""

from datetime import UTC, datetime, timedelta

from core import throttle
from core.throttle import ThrottlePolicy

POLICY = ThrottlePolicy(free_attempts=3, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=1))
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def _fail(key: str, times: int, at: datetime = T0) -> list[timedelta]:
    return [await throttle.record_failure(key, POLICY, now=at) for _ in range(times)]


async def test_the_first_failures_are_free_then_delays_double_up_to_a_cap(database_url) -> None:
    delays = await _fail("login:G7K3M9PQ", 9)
    assert [d.total_seconds() for d in delays] == [0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert await throttle.wait_before_next("login:G7K3M9PQ", now=T0) == timedelta(minutes=1)
    assert await throttle.wait_before_next("login:G7K3M9PQ", now=T0 + timedelta(minutes=1)) == timedelta(0)


async def test_keys_are_independent_and_a_success_resets(database_url) -> None:
    await _fail("login:A", 4)
    assert await throttle.wait_before_next("login:B", now=T0) == timedelta(0)
    await throttle.reset("login:A")
    assert await throttle.wait_before_next("login:A", now=T0) == timedelta(0)
    assert await _fail("login:A", 1) == [timedelta(0)]


async def test_old_failures_are_forgotten(database_url) -> None:
    await _fail("code:chat-1", 5)
    later = T0 + POLICY.forget_after + timedelta(seconds=1)
    assert await _fail("code:chat-1", 1, at=later) == [timedelta(0)]


async def test_keys_are_not_stored_in_plain_text(database_url) -> None:
    from core.models import ThrottleState

    await _fail("ip:203.0.113.9", 1)
    assert "203.0.113.9" not in str(await ThrottleState.all().values())


async def test_a_slot_gives_one_attempt_per_period(database_url) -> None:
    every = timedelta(seconds=30)
    assert await throttle.claim_slot("slow:A", every, now=T0) == timedelta(0)
    assert await throttle.claim_slot("slow:A", every, now=T0 + timedelta(seconds=10)) == timedelta(seconds=20)
    assert await throttle.claim_slot("slow:B", every, now=T0 + timedelta(seconds=10)) == timedelta(0)
    assert await throttle.claim_slot("slow:A", every, now=T0 + every) == timedelta(0)
