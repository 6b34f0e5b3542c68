"""Wiring the chat bots: the webhooks the portal serves, and Telegram long polling.

Whatever the settings leave out is simply absent: no token, no Telegram; no access token and
channel secret, no LINE.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiogram import Bot, Dispatcher
from fastapi import APIRouter
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi

from bot.conversation import Conversation, LineQuotaReader
from bot.events import forget_old_events
from bot.line.adapter import LineDialogue, line_api_client, line_webhook, read_quota
from bot.telegram.adapter import publish_menu, run_polling, telegram_bot, telegram_dispatcher, telegram_webhook
from core.config import Settings
from core.rounds import Rounds

log = logging.getLogger(__name__)

FORGET_EVENTS_SECONDS = 3600.0


class ChatBots:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._telegram: tuple[Bot, Dispatcher] | None = None
        self._line: AsyncApiClient | None = None
        self.routers: list[APIRouter] = []
        self.line_quota: LineQuotaReader | None = None  # for every staff preview (the portal: app.state)
        line, telegram = settings.line, settings.telegram
        api: AsyncMessagingApi | None = None
        if line.access_token is not None:
            self._line = line_api_client(line)
            api = AsyncMessagingApi(self._line)
            self.line_quota = lambda: read_quota(api)
        conversation = Conversation(settings, line_quota=self.line_quota)
        if api is not None and line.channel_secret is not None:
            dialogue = LineDialogue(conversation, api, timeout=line.timeout_seconds)
            self.routers.append(line_webhook(dialogue, line.channel_secret.get_secret_value()))
        if telegram.token is not None:
            bot, dispatcher = telegram_bot(telegram), telegram_dispatcher(conversation)
            self._telegram = (bot, dispatcher)
            if telegram.mode == "webhook" and telegram.webhook_secret is not None:
                self.routers.append(telegram_webhook(bot, dispatcher, telegram.webhook_secret.get_secret_value()))

    @property
    def names(self) -> list[str]:
        return (["Telegram"] if self._telegram else []) + (["LINE"] if self._line else [])

    async def run(self, stop: asyncio.Event) -> None:
        """Poll Telegram (in polling mode) or register its webhook; forget old event ids hourly.
        The clients stay open for the webhooks (and a restart of this part): ``close`` ends them."""
        tasks = [asyncio.create_task(self._forget_events(stop), name="forget-chat-events")]
        if self._telegram is not None:
            bot, dispatcher = self._telegram
            if self._settings.telegram.mode == "polling":
                tasks.append(asyncio.create_task(run_polling(bot, dispatcher, stop), name="telegram-polling"))
            else:
                tasks.append(asyncio.create_task(self._set_webhook(bot), name="telegram-webhook"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def _set_webhook(self, bot: Bot) -> None:
        url = f"{self._settings.portal.public_url.rstrip('/')}/hooks/telegram"
        secret = self._settings.telegram.webhook_secret
        try:
            await bot.set_webhook(url, secret_token=secret.get_secret_value() if secret else None)
            await publish_menu(bot)
            log.info("Telegram webhook set to %s", url)
        except Exception:  # the portal still answers; an operator can set it by hand
            log.exception("could not set the Telegram webhook to %s", url)

    async def _forget_events(self, stop: asyncio.Event) -> None:
        rounds = Rounds("forgetting old chat events", log)
        while not stop.is_set():
            wait = FORGET_EVENTS_SECONDS
            try:
                await forget_old_events()
                rounds.ok()
            except Exception as exc:  # noqa: BLE001 - tried again, sooner
                wait = min(wait, 60 * rounds.failed(exc))
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def close(self) -> None:
        if self._telegram is not None:
            await self._telegram[0].session.close()
        if self._line is not None:
            await self._line.close()
