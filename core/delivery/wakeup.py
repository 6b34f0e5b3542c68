"""Waking the delivery worker of this process as soon as notices were committed.

``mimamori serve`` runs the portal and the worker in one process: a passage's notice should go
out now, not when the worker next polls. Code that committed notices calls ``notices_queued()``;
a worker in another process still finds them by polling (``delivery.poll_seconds``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

_listeners: set[asyncio.Event] = set()


def notices_queued() -> None:
    for event in _listeners:
        event.set()


@contextmanager
def listening() -> Iterator[asyncio.Event]:
    """An event set whenever notices were queued, for as long as the ``with`` block runs."""
    event = asyncio.Event()
    _listeners.add(event)
    try:
        yield event
    finally:
        _listeners.discard(event)
