"""Stopping cleanly: Ctrl-C or SIGTERM asks every running part to finish and close."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import uvicorn


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], object]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class PortalServer(uvicorn.Server):
    """Uvicorn without its own signal handling (it re-raises Ctrl-C after shutting down, which
    would cancel our clean-up): ``stop_on_signals`` sets ``should_exit`` instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
