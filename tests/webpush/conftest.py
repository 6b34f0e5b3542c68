"""Web push fixtures: the fake push service, settings that turn the channel on, browsers
subscribed to it the way the addresses page does it, and a worker sending through it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core import sealing
from core.addresses import add_verified_address
from core.channels.webpush import Subscription, normalise
from core.config import Settings, load_settings
from core.delivery.worker import DeliveryWorker
from core.models import Channel, ContactAddress
from core.scheduler import drain
from tests.fakes.push_service import Browser, FakePushService, unb64
from tests.portal.conftest import chromium, family, start_server  # noqa: F401  # the portal's fixtures, here too
from webpush.transport import WebPushTransport


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    service = await FakePushService().start()
    yield service
    await service.stop()


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        attendance={"checks": False},
        webpush={"subject": "mailto:board@city.example.jp", "timeout_seconds": 5},
        delivery={"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "poll_seconds": 0.02},
        portal={"public_url": "https://mimamori.city.example.jp"},
    )


def subscribed(service: FakePushService) -> Browser:
    """A browser subscribed with the keyring's current public key, as the addresses page offers it."""
    ring = sealing.installed().keyring
    assert ring.vapid_current is not None
    return service.subscribe(ring.vapid_public_key(ring.vapid_current))


def address_value(browser: Browser, key_id: str | None = None) -> str:
    """What the addresses page posts: the browser's subscription and the key id the page gave it."""
    given = browser.subscription()
    keys = given["keys"]
    kid = key_id or sealing.installed().keyring.vapid_current or ""
    return Subscription(given["endpoint"], unb64(keys["p256dh"]), unb64(keys["auth"]), kid).value()


async def add_device(guardian_id: int, browser: Browser) -> ContactAddress:
    return await add_verified_address(guardian_id, Channel.WEBPUSH, normalise(address_value(browser)), limit=2)


async def deliver(settings: Settings) -> None:
    transport = WebPushTransport(settings.webpush)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.WEBPUSH: transport}), timeout=30)
    finally:
        await transport.close()
