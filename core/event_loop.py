"""How every Mimamori process runs its coroutines: on uvloop, the asyncio API with a loop written
in C, which takes about a sixth off the CPU each sent notice costs (bench/broadcast_email.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
