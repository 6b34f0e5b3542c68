"""The conversation spoken on Telegram (aiogram 3): long polling or the /hooks/telegram webhook.

aiogram only translates: a text or a pressed inline button becomes an ``Incoming``, a ``Reply``
becomes a message with an inline keyboard. Commands appear in Telegram's menu. When the Bot API
is away, the reply waits in the outbox (the webhook still answers 200).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from contextlib import suppress

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from bot.conversation import Conversation, Incoming, Reply, menu
from bot.deferred import answer_later
from bot.events import handle_once
from core import buttons
from core.config import TelegramSettings
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.models import Channel, Language

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram shows a user the command menu of their app's language (``language_code``, two letters),
# else the default one: Japanese. A registered chat gets its own menu in its guardian's language.
MENU_LANGUAGE_CODES = {
    Language.EN: "en",
    Language.ZH_HANS: "zh",
    Language.PT_BR: "pt",
    Language.VI: "vi",
}
RESTART_DELAY_SECONDS = 5.0
TELEGRAM_AWAY = (TelegramServerError, TelegramNetworkError, asyncio.TimeoutError, OSError)


def telegram_bot(settings: TelegramSettings) -> Bot:
    """A Bot talking to ``settings.api_base`` with a timeout on every call."""
    if settings.token is None:
        raise ValueError("telegram.token is not set")
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.api_base.rstrip("/")), timeout=settings.timeout_seconds
    )
    return Bot(settings.token.get_secret_value(), session=session)


ROW = 3  # buttons that fit one row


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    keys = [InlineKeyboardButton(text=b.label, callback_data=b.postback) for b in reply.buttons]
    width = len(keys) if len(keys) <= ROW else 2  # a report's five reasons or times: two a row on a phone
    return InlineKeyboardMarkup(inline_keyboard=[keys[i : i + width] for i in range(0, len(keys), width)])


def telegram_dispatcher(conversation: Conversation) -> Dispatcher:
    router = Router(name="conversation")

    @router.message(F.text)
    async def on_text(message: Message, bot: Bot) -> None:
        reply = await conversation.respond(Incoming(Channel.TELEGRAM, str(message.chat.id), text=message.text or ""))
        await _answer(bot, message.chat.id, reply)

    @router.callback_query(F.data)
    async def on_button(query: CallbackQuery, bot: Bot) -> None:
        data = query.data or ""  # never empty: the F.data filter
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        reply = await conversation.respond(Incoming(Channel.TELEGRAM, str(chat_id), postback=data))
        with suppress(*TELEGRAM_AWAY):  # it only stops the button's spinner, which stops by itself
            await query.answer()
        if query.message is not None and reply.buttons == () and isinstance(buttons.parse(data), buttons.DECISIONS):
            with suppress(Exception):  # the preview's buttons go once decided: cosmetic
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=query.message.message_id)
        await _answer(bot, chat_id, reply)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def _answer(bot: Bot, chat_id: int, reply: Reply) -> None:
    try:
        if reply.menu_changed:
            await bot.set_my_commands(
                commands(reply.language, staff=reply.staff_menu), scope=BotCommandScopeChat(chat_id=chat_id)
            )
        await bot.send_message(
            chat_id,
            reply.text,
            reply_markup=keyboard(reply),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except TELEGRAM_AWAY as exc:
        await answer_later(Channel.TELEGRAM, str(chat_id), reply, exc)


def commands(language: Language, *, staff: bool = False) -> list[BotCommand]:
    return [BotCommand(command=item.command, description=item.description) for item in menu(language, staff=staff)]


async def publish_menu(bot: Bot) -> None:
    """The command menu of chats that have none of their own: Japanese, and the languages Telegram's
    apps name with a code of their own."""
    await bot.set_my_commands(commands(DEFAULT_LANGUAGE))
    for language, code in MENU_LANGUAGE_CODES.items():
        await bot.set_my_commands(commands(language), language_code=code)


def telegram_webhook(bot: Bot, dispatcher: Dispatcher, secret: str) -> APIRouter:
    """``POST /hooks/telegram``: 403 without the secret token, 400 for a body that is no update;
    an update Telegram sends again (same ``update_id``) is handled once."""
    router = APIRouter()
    expected = secret.encode()

    @router.post("/hooks/telegram", include_in_schema=False)
    async def hook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            update = Update.model_validate(json.loads(await request.body()), context={"bot": bot})
        except (ValueError, ValidationError):
            return Response(status_code=400)
        await handle_once(Channel.TELEGRAM, str(update.update_id), lambda: dispatcher.feed_update(bot, update))
        return Response(status_code=200)

    return router


async def run_polling(
    bot: Bot,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
    *,
    polling_timeout: int = 25,
    restart_delay: float = RESTART_DELAY_SECONDS,
) -> None:
    """Long polling until ``stop``, restarted after anything that ends it early."""
    while not stop.is_set():
        try:
            await bot.delete_webhook()
            await publish_menu(bot)
            polling = asyncio.create_task(
                dispatcher.start_polling(
                    bot,
                    polling_timeout=polling_timeout,
                    handle_signals=False,
                    close_bot_session=False,
                )
            )
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                with suppress(RuntimeError):
                    await dispatcher.stop_polling()
                await polling
                stopped.cancel()
                return
            stopped.cancel()
            polling.result()
            log.warning("Telegram polling ended by itself: restarting")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Telegram polling failed: restarting in %s s", restart_delay)
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), restart_delay)
