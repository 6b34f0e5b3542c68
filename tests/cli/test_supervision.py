"""No part of `serve` or `worker` ends unnoticed: a crashed part starts again; one that keeps
crashing ends the process with a non-zero status for the service manager to act on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mimamori import supervision
from mimamori.supervision import PartFailed, Supervisor


async def test_a_part_that_crashes_is_started_again_and_the_crash_is_logged(caplog) -> None:
    stop = asyncio.Event()
    starts = 0

    async def delivery() -> None:
        nonlocal starts
        starts += 1
        if starts < 3:
            raise RuntimeError("a bug")
        await stop.wait()

    supervisor = Supervisor(stop, first_pause=0.01)
    with caplog.at_level(logging.ERROR):
        kept = asyncio.create_task(supervisor.keep("delivery", delivery))
        while starts < 3:
            await asyncio.sleep(0.01)
        stop.set()
        await kept
    assert starts == 3
    assert [r.getMessage() for r in caplog.records].count(
        "delivery stopped with an error; starting it again in 0 s"
    ) == 2
    assert all(r.exc_info for r in caplog.records)  # the bug's traceback is there to read
    supervisor.check()  # stopped by request: no failure


async def test_a_part_that_keeps_crashing_ends_the_process(monkeypatch, caplog) -> None:
    monkeypatch.setattr(supervision, "MAX_PAUSE_SECONDS", 0.01)
    stop = asyncio.Event()
    other_stopped = asyncio.create_task(stop.wait())

    async def reader() -> None:
        raise RuntimeError("always")

    supervisor = Supervisor(stop, first_pause=0.001)
    await asyncio.wait_for(supervisor.keep("mail reader", reader), 5)
    assert stop.is_set()  # the other parts are asked to finish
    await asyncio.wait_for(other_stopped, 1)
    with pytest.raises(PartFailed, match="mail reader kept failing"):
        supervisor.check()
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


async def test_a_part_with_nothing_to_do_simply_ends() -> None:
    stop = asyncio.Event()

    async def no_mailbox() -> None:
        return

    supervisor = Supervisor(stop)
    await asyncio.wait_for(supervisor.keep("mail reader", no_mailbox), 1)
    assert not stop.is_set()
