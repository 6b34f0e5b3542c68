"""The database going away under a running delivery worker, on either database: the mails already
in the SMTP connections' hands go out, their outcomes wait in memory, and when the database is
back they are recorded (not sent again) and sending goes on by itself."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from core import broadcasts, db, heartbeat
from core.delivery.worker import DeliveryWorker
from core.models import BroadcastCategory, ContactAddress, Delivery, DeliveryStatus
from core.roster import import_roster
from core.scheduler import Scheduler
from mail.smtp import SmtpTransport
from mimamori.demo_city import demo_roster
from tests.delivery.conftest import mail_settings  # noqa: F401 - a fixture, used by name

__all__ = ["mail_settings"]


async def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.02)


async def test_mails_sent_while_the_database_is_away_are_recorded_once_it_is_back(
    database_url,
    mail_settings,
    passwords,
    mail_sink,
    database_away,
    caplog,
    is_postgres,
) -> None:
    if not is_postgres:
        # closing SQLite's one connection under the worker's running statements (how this test
        # takes the database away) once hung the test itself: see the closing note of stop 22
        pytest.skip("the database taken away as a server is: PostgreSQL")
    async with asyncio.timeout(120):
        await _story(database_url, mail_settings, passwords, mail_sink, database_away, caplog)


async def _story(database_url, mail_settings, passwords, mail_sink, database_away, caplog) -> None:
    await import_roster(demo_roster(["みどり小学校"], 120), passwords=passwords, max_addresses=2, actor="test")
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="校庭に避難しています。",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    addresses = {a.value for a in await ContactAddress.all()}
    sending = mail_settings.model_copy(
        update={
            "smtp": mail_settings.smtp.model_copy(update={"rate_per_second": 150.0}),
            "delivery": mail_settings.delivery.model_copy(update={"batch_size": 30}),
        }
    )
    transport = SmtpTransport(sending.smtp)
    worker = DeliveryWorker(sending, {transport.channel: transport})
    stop = asyncio.Event()
    heartbeat.forget()
    with caplog.at_level(logging.INFO, logger="core.delivery.worker"):
        running = asyncio.gather(worker.run(stop), Scheduler(sending).run(stop))  # fan-out is the scheduler's
        try:
            await _until(lambda: len(mail_sink.received) >= 20, 30, "sending began")
            await database_away()
            await _until(lambda: heartbeat.parts()["delivery"].failing_since is not None, 10, "the outage noticed")
            sent_while_away = len(mail_sink.received)
            await asyncio.sleep(1.0)  # what was composed goes on out meanwhile
            sent_while_away = len(mail_sink.received) - sent_while_away
            await db.close_database()
            await db.open_database(database_url)  # the database is back
            await _until(lambda: len(set(mail_sink.per_recipient())) == len(addresses), 60, "every address reached")
            await _until(lambda: heartbeat.parts()["delivery"].failing_since is None, 10, "delivery working again")
        finally:
            stop.set()
            await running
            await transport.close()

    per_recipient = mail_sink.per_recipient()
    assert set(per_recipient) == addresses
    assert sum(per_recipient.values()) == len(addresses)  # none sent twice for want of its record
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == len(addresses)
    print(f"\n{sent_while_away} mails went out while the database was away; recorded after, none sent twice")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("delivery: the database is unavailable" in m for m in messages) == 1  # once, not per poll
    assert any(m.startswith("delivery: working again") for m in messages)
    assert not any(r.exc_info for r in caplog.records)  # an outage is no bug: no traceback
