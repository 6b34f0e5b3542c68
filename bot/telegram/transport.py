"""The Telegram transport: sendMessage (or sendPhoto, for a guardian who opted in to stills).

Telegram allows about 30 messages a second overall and one a second per chat: this transport
holds both (``rate_per_second``, ``per_chat_per_second``). Errors are translated at the edge:
``retry_after`` is honoured exactly, 403 (the person blocked the bot) makes the address inactive,
a vanished chat counts toward the address failing, network trouble and 5xx retry.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.telegram.adapter import TELEGRAM_AWAY, telegram_bot
from core.config import TelegramSettings
from core.delivery.pacing import SpacedLimiter
from core.delivery.reasons import in_our_words
from core.delivery.render import RenderedNotice
from core.delivery.transport import Outcome, Outgoing, PermanentFailure, Sent, TemporaryFailure
from core.models import Channel

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


class ChatPacer:
    """At most ``rate`` messages a second to any one chat; a chat told to wait waits."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        now = time.monotonic()
        slot = max(now, self._next.get(chat, now))
        self._next[chat] = slot + self._interval
        if len(self._next) > 10_000:
            self._next = {c: t for c, t in self._next.items() if t > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    def hold(self, chat: str, seconds: float) -> None:
        self._next[chat] = max(self._next.get(chat, 0.0), time.monotonic() + seconds)


class TelegramTransport:
    channel = Channel.TELEGRAM

    def __init__(self, settings: TelegramSettings, bot: Bot | None = None) -> None:
        self._bot = bot or telegram_bot(settings)
        self.concurrency = settings.concurrency
        self.rate_per_second = 0.0  # paced here instead, after the per-chat pacer (core.delivery.pacing)
        self._window = SpacedLimiter(settings.rate_per_second)
        self._pacer = ChatPacer(settings.per_chat_per_second)

    async def send(self, message: Outgoing) -> Outcome:
        chat = message.address
        await self._pacer.wait(chat)
        await self._window.wait()
        text = message.notice.chat_text()
        markup = _buttons(message.notice)
        try:
            if message.photo is not None:
                sent = await self._bot.send_photo(
                    chat,
                    BufferedInputFile(message.photo, filename="photo.jpg"),
                    caption=text[:CAPTION_LIMIT],
                    reply_markup=markup,
                )
            else:
                sent = await self._bot.send_message(
                    chat,
                    text[:TEXT_LIMIT],
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            return Sent(provider_id=str(sent.message_id))  # not the chat id: it stays sealed
        except TelegramRetryAfter as exc:
            self._pacer.hold(chat, exc.retry_after)
            return TemporaryFailure(f"Telegram asked us to wait {exc.retry_after} s", retry_after=exc.retry_after)
        except TelegramForbiddenError as exc:
            return PermanentFailure(f"Telegram: {_said(exc, 'the person blocked the bot')}", address_verdict="blocked")
        except (TelegramBadRequest, TelegramNotFound) as exc:
            said = _said(exc, "the message was refused")
            verdict: Literal["failing"] | None = "failing" if said in _ABOUT_THE_CHAT else None
            return PermanentFailure(f"Telegram refused: {said}", address_verdict=verdict)
        except TELEGRAM_AWAY as exc:
            return TemporaryFailure(f"Telegram unreachable ({type(exc).__name__})")
        except TelegramAPIError as exc:  # e.g. 401: our token is wrong - staff must fix it, then it goes
            return TemporaryFailure(f"Telegram said: {_said(exc, 'our request was refused')}")

    async def close(self) -> None:
        await self._bot.session.close()


# Bot API descriptions, in our words: a description may quote the chat it is about
_KNOWN = {
    "chat not found": "the chat does not exist",
    "user not found": "the Telegram user does not exist",
    "user is deactivated": "the Telegram account was deleted",
    "bot was blocked": "the person blocked the bot",
    "bot was kicked": "the bot was removed from the chat",
    "message is too long": "the message is too long",
    "unauthorized": "our bot token was refused",
}
_ABOUT_THE_CHAT = {_KNOWN["chat not found"], _KNOWN["user not found"]}


def _said(exc: TelegramAPIError, otherwise: str) -> str:
    return in_our_words(exc.message, _KNOWN, otherwise)


def _buttons(notice: RenderedNotice) -> InlineKeyboardMarkup | None:
    row = [
        InlineKeyboardButton(text=a.label, callback_data=a.postback)
        if a.postback
        else InlineKeyboardButton(text=a.label, url=a.url)
        for a in notice.actions
        if a.postback or a.url
    ]
    if len(row) > 2:  # long labels (a "not seen" notice's answers) squeezed side by side are cut: one a line
        return InlineKeyboardMarkup(inline_keyboard=[[button] for button in row])
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None
