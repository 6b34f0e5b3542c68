"""Delivery fixtures: settings pointing at the test SMTP server, a way to run the worker in this
process, and ``mimamori worker`` as a subprocess with a city-wide broadcast for it to send."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core import broadcasts
from core.config import Settings, load_settings
from core.delivery.worker import DeliveryWorker
from core.models import BroadcastCategory, Channel, ContactAddress, Delivery, DeliveryStatus
from core.passwords import Passwords
from core.roster import import_roster
from core.scheduler import drain
from mail.smtp import SmtpTransport
from mimamori.demo_city import demo_roster
from tests.conftest import REPO
from tests.mailsink import MailSink

Deliver = Callable[[], Awaitable[None]]


@pytest.fixture
def mail_settings(settings: Settings, mail_sink: MailSink) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        smtp={
            "host": "127.0.0.1",
            "port": mail_sink.port,
            "from_address": "mimamori@city.example.jp",
            "bounce_domain": "bounce.city.example.jp",
            "timeout_seconds": 5,
        },
        delivery={"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "poll_seconds": 0.02},
        portal={"public_url": "https://mimamori.city.example.jp"},
    )


@pytest.fixture
def deliver(mail_settings: Settings) -> Deliver:
    """Run a delivery worker (and the scheduler's fan-out) until nothing due is left."""

    async def run(timeout: float = 30) -> None:
        transport = SmtpTransport(mail_settings.smtp)
        try:
            await drain(mail_settings, DeliveryWorker(mail_settings, {Channel.EMAIL: transport}), timeout=timeout)
        finally:
            await transport.close()

    return run


async def city_wide_broadcast(passwords: Passwords, settings: Settings, pupils: int) -> set[str]:
    """Two schools of ``pupils`` in all, and a confirmed alert to every guardian: its addresses."""
    await import_roster(
        demo_roster(["みどり小学校", "さくら小学校"], pupils), passwords=passwords, max_addresses=2, actor="test"
    )
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="大雨のため休校",
        body="本日は臨時休校とします。",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    return {a.value for a in await ContactAddress.all()}


def start_worker(
    cli_env: dict[str, str], sink: MailSink, log: Path, *options: str, **settings: str
) -> subprocess.Popen[bytes]:
    """``mimamori worker [OPTIONS]`` sending to ``sink``, its output appended to ``log``."""
    env = {
        **cli_env,
        "MIMAMORI_SMTP__PORT": str(sink.port),
        "MIMAMORI_DELIVERY__LEASE_SECONDS": "5",
        "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
        "PYTHONPATH": str(REPO),
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mimamori", "worker", *options], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def wait_until_all_sent(timeout: float = 90) -> None:
    """Until the outbox has rows and none is queued or sending."""
    deadline = time.monotonic() + timeout
    while (
        await Delivery.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]).exists()
        or not await Delivery.exists()
    ):
        assert time.monotonic() < deadline, "the workers did not finish"
        await asyncio.sleep(0.2)
