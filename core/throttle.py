"""Growing delays after repeated failures (logins, registration codes), per key.

After ``free_attempts`` failures each further one doubles the wait, up to ``max_delay``; a key
with no failure for ``forget_after`` starts afresh. The wait is capped on purpose: a throttle
that could grow without bound would let an attacker lock a guardian out for good.
A key can also be used as a slot (``claim_slot``): at most one attempt per period, taken atomically.
Keys are stored as blind indexes, so client addresses and chat ids are not kept in plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.blind_indexes import Purpose, index
from core.models import ThrottleState


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_attempts:
            return timedelta(0)
        delay: timedelta = self.base_delay * 2 ** (failures - self.free_attempts)
        return min(delay, self.max_delay)


def _stored_key(key: str) -> str:
    return index(Purpose.THROTTLE, key)


def _remaining(state: ThrottleState | None, now: datetime) -> timedelta:
    if state is None or state.blocked_until is None or state.blocked_until <= now:
        return timedelta(0)
    return state.blocked_until - now


async def wait_before_next(key: str, *, now: datetime | None = None) -> timedelta:
    """How long ``key`` must wait before its next attempt is considered (zero: go ahead)."""
    now = now or datetime.now(UTC)
    return _remaining(await ThrottleState.get_or_none(key=_stored_key(key)), now)


async def _change(key: str, now: datetime, change: Callable[[ThrottleState], timedelta]) -> timedelta:
    """Apply ``change`` to ``key``'s row under a row lock (created if missing) and save it."""
    stored = _stored_key(key)
    for _ in range(2):  # a concurrent first change may create the row under us
        try:
            async with in_transaction():
                state = await ThrottleState.select_for_update().get_or_none(key=stored)
                if state is None:
                    state = ThrottleState(key=stored, failures=0, last_failure_at=now)
                result = change(state)
                await state.save()
                return result
        except IntegrityError:
            continue
    raise RuntimeError(f"could not change the throttle state of {stored}")


async def record_failure(key: str, policy: ThrottlePolicy, *, now: datetime | None = None) -> timedelta:
    """Count a failure; returns the wait now imposed on ``key``."""
    now = now or datetime.now(UTC)

    def fail(state: ThrottleState) -> timedelta:
        if now - state.last_failure_at > policy.forget_after:
            state.failures = 0
        state.failures += 1
        state.last_failure_at = now
        delay = policy.delay_after(state.failures)
        state.blocked_until = now + delay if delay else None
        return delay

    return await _change(key, now, fail)


async def claim_slot(key: str, every: timedelta, *, now: datetime | None = None) -> timedelta:
    """Take ``key``'s one attempt per ``every``: zero if taken now, else how long until the next."""
    now = now or datetime.now(UTC)

    def claim(state: ThrottleState) -> timedelta:
        wait = _remaining(state, now)
        if not wait:
            state.last_failure_at, state.blocked_until = now, now + every
        return wait

    return await _change(key, now, claim)


async def reset(key: str) -> None:
    """Forget ``key``'s failures (after a success, or when the support desk unlocks)."""
    await ThrottleState.filter(key=_stored_key(key)).delete()
