"""The one retry schedule: exponential backoff with jitter, or exactly what the peer asked."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from core.config import DeliverySettings


def next_attempt(
    attempts: int,
    now: datetime,
    settings: DeliverySettings,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """When to try again after ``attempts`` tries (1 after the first)."""
    if retry_after is not None:
        return now + timedelta(seconds=retry_after)
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(attempts - 1, 0))
    # "Equal jitter": at least half the backoff, so retries spread out but never bunch at zero.
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    return now + timedelta(seconds=delay)
