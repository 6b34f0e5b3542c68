"""Bot fixtures: the fake Telegram and LINE servers, settings pointing at them, the portal app
with the bots' webhooks, and chat addresses registered the way a guardian does it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.conversation import Conversation
from bot.line.adapter import LineDialogue, line_api_client, line_webhook, read_quota
from bot.telegram.adapter import telegram_bot, telegram_dispatcher, telegram_webhook
from core.addresses import add_verified_address
from core.config import Settings, load_settings
from core.delivery.transport import Transport
from core.delivery.worker import DeliveryWorker
from core.models import Channel, ContactAddress
from portal.app import create_app
from tests.fakes.line_api import FakeLineApi
from tests.fakes.telegram_api import FakeTelegramApi

WEBHOOK_SECRET = "s3cret-token_for-webhook"
TELEGRAM_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramApi]:
    api = await FakeTelegramApi().start()
    yield api
    await api.stop()


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLineApi]:
    api = await FakeLineApi().start()
    yield api
    await api.stop()


@pytest.fixture
def bot_settings(settings: Settings, telegram_api: FakeTelegramApi, line_api: FakeLineApi) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        telegram={
            "token": telegram_api.token,
            "api_base": telegram_api.url,
            "mode": "webhook",
            "webhook_secret": WEBHOOK_SECRET,
            "timeout_seconds": 5,
        },
        line={
            "access_token": line_api.access_token,
            "channel_secret": line_api.channel_secret,
            "api_base": line_api.url,
            "timeout_seconds": 5,
        },
        delivery={"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "poll_seconds": 0.02},
        portal={"public_url": "https://mimamori.city.example.jp"},
    )


@pytest.fixture
async def telegram_client(bot_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the portal app with the Telegram webhook, as Telegram would call it."""
    bot = telegram_bot(bot_settings.telegram)
    dispatcher = telegram_dispatcher(Conversation(bot_settings))
    app = create_app(bot_settings, extra_routers=[telegram_webhook(bot, dispatcher, WEBHOOK_SECRET)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
        yield client
    await bot.session.close()


@pytest.fixture
async def line_client(bot_settings: Settings, line_api: FakeLineApi) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the portal app with the LINE webhook, as LINE would call it."""
    from linebot.v3.messaging import AsyncMessagingApi

    client = line_api_client(bot_settings.line)
    api = AsyncMessagingApi(client)
    conversation = Conversation(bot_settings, line_quota=lambda: read_quota(api))
    dialogue = LineDialogue(conversation, api)
    app = create_app(bot_settings, extra_routers=[line_webhook(dialogue, line_api.channel_secret)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as http:
        yield http
    await client.close()


async def add_chat(guardian_id: int, channel: Channel, chat: str) -> ContactAddress:
    return await add_verified_address(guardian_id, channel, chat, limit=2)


async def drain_outbox(settings: Settings, channel: Channel, transport: Transport) -> None:
    """What ``mimamori worker`` does once the chat API is back: send what waits, then stop."""
    try:
        await DeliveryWorker(settings, {channel: transport}).drain(timeout=30)
    finally:
        await transport.close()
