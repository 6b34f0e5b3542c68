"""Delivery fixtures: settings pointing at the test SMTP server, and a way to run the worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from core.config import Settings, load_settings
from core.delivery.worker import DeliveryWorker
from core.models import Channel
from mail.smtp import SmtpTransport
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
            "host": "127.0.0.1", "port": mail_sink.port, "from_address": "mimamori@city.example.jp",
            "bounce_domain": "bounce.city.example.jp", "timeout_seconds": 5,
        },
        delivery={"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "poll_seconds": 0.02},
        portal={"public_url": "https://mimamori.city.example.jp"},
    )


@pytest.fixture
def deliver(mail_settings: Settings) -> Deliver:
    """Run a delivery worker until nothing due is left."""

    async def run(timeout: float = 30) -> None:
        transport = SmtpTransport(mail_settings.smtp)
        try:
            await DeliveryWorker(mail_settings, {Channel.EMAIL: transport}).drain(timeout=timeout)
        finally:
            await transport.close()

    return run
