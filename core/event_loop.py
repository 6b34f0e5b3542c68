"""How every Mimamori process runs its coroutines: on uvloop, the asyncio API with a loop written
in C, which takes about a sixth off the CPU each sent notice costs (bench/broadcast_email.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def freeze_startup_objects() -> None:
    """For a long-running process once it has started: what exists now (modules, settings,
    templates, connections) lives as long as the process, so the cyclic collector stops walking
    it. Its full collections paused the loop about 35 ms each, a dozen times in a city-wide
    broadcast, stalling every SMTP connection meanwhile (bench/broadcast_email.py)."""
    gc.collect()
    gc.freeze()


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Until one of ``events`` is set, or ``timeout`` seconds."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
