"""A passage notice in a chat (Telegram, LINE) is in the guardian's language, its button too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.line.transport import LineTransport
from bot.telegram.transport import TelegramTransport
from core.delivery.worker import DeliveryWorker
from core.models import Channel, Language
from core.scheduler import drain
from tests.bot.conftest import add_chat
from tests.factories import make_guardian, queue_passage_notice
from tests.one_language import assert_one_language

SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)  # 7:58 on the 26th in Tokyo
NAMES = ["花子", "みどり小学校"]
BUTTON = {
    Language.JA: "写真を見る",
    Language.JA_EASY: "写真を見る",
    Language.EN: "See the photo",
    Language.ZH_HANS: "查看照片",
    Language.PT_BR: "Ver a foto",
    Language.VI: "Xem ảnh",
    Language.FIL: "Tingnan ang larawan",
}


async def _a_chat_in_every_language(channel: Channel) -> dict[str, Language]:
    chats = {}
    for n, language in enumerate(Language):
        guardian = await make_guardian(f"保護者 {n}", language=language)
        chat = f"U{n}" if channel is Channel.LINE else str(4200 + n)
        address = await add_chat(guardian.id, channel, chat)
        await queue_passage_notice(address, seen_at=SEEN, direction="departure", photo_token="PHOTO-TOKEN-1")
        chats[chat] = language
    return chats


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.LINE], ids=str)
async def test_a_passage_notice_in_a_chat_is_in_the_guardians_language(
    database_url, telegram_api, line_api, bot_settings, channel
) -> None:
    chats = await _a_chat_in_every_language(channel)
    transport = (
        TelegramTransport(bot_settings.telegram) if channel is Channel.TELEGRAM else LineTransport(bot_settings.line)
    )
    try:
        await drain(bot_settings, DeliveryWorker(bot_settings, {channel: transport}), timeout=30)
    finally:
        await transport.close()

    for chat, language in chats.items():
        if channel is Channel.TELEGRAM:
            [message] = telegram_api.sent(chat=chat)
            text = message.params["text"]
            [[button]] = message.params["reply_markup"]["inline_keyboard"]
            label = button["text"]
        else:
            [push] = line_api.pushed_to(chat)
            shown, buttons = push.body["messages"]
            text = shown["text"]
            [action] = buttons["template"]["actions"]
            label = action["label"]
            assert_one_language(buttons["template"]["text"], language, names=NAMES)
        assert label == BUTTON[language]
        assert_one_language(text, language, names=NAMES)
    assert "花子さんが7:58にみどり小学校から下校しました。" in _text_of(
        telegram_api, line_api, channel, chats, Language.JA
    )
    assert "Umalis si 花子 sa みどり小学校 nang 7:58" in _text_of(telegram_api, line_api, channel, chats, Language.FIL)


def _text_of(telegram_api, line_api, channel: Channel, chats: dict[str, Language], language: Language) -> str:
    chat = next(c for c, lang in chats.items() if lang is language)
    if channel is Channel.TELEGRAM:
        return telegram_api.sent(chat=chat)[0].params["text"]
    return line_api.pushed_to(chat)[0].body["messages"][0]["text"]
