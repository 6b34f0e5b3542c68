"""A passage notice in a chat (Telegram, LINE) is in the guardian's language, its button too; so
is every reply to what the guardian types, the LINE quick replies and the Telegram command menu."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.conversation import parse_command
from bot.line.transport import LineTransport
from bot.telegram.transport import TelegramTransport
from core.delivery.worker import DeliveryWorker
from core.models import Channel, Language
from core.registration import issue_link_code
from core.scheduler import drain
from tests.bot.conftest import TELEGRAM_HEADERS, add_chat
from tests.factories import make_guardian, make_passage, make_pupil, make_site, queue_passage_notice
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


COMMANDS = ("help", "status", "addresses", "stop", "resume", "photos on", "photos off", "unlink")


async def test_every_chat_reply_is_in_the_guardians_language(database_url, telegram_api, telegram_client) -> None:
    site = await make_site()
    pupil = await make_pupil(site, "花子")
    await make_passage(pupil, site)
    chats = {}
    for n, language in enumerate(Language):
        guardian = await make_guardian(f"保護者 {n}", language=language, pupils=[pupil])
        chat = 4300 + n
        chats[str(chat)] = language
        for typed in (f"/start {(await issue_link_code(guardian.id)).replace(' ', '')}", *COMMANDS):
            update = telegram_api.text_update(chat, typed if typed.startswith("/") else f"/{typed.replace(' ', '_')}")
            assert (await telegram_client.post("/hooks/telegram", json=update, headers=TELEGRAM_HEADERS)).is_success

    for chat, language in chats.items():
        replies = [m.params["text"] for m in telegram_api.sent(chat=chat)]
        assert len(replies) == 1 + len(COMMANDS)
        for text in replies:
            assert_one_language(text, language, names=[*NAMES, *COMMANDS, "正門"])
    status = {language: telegram_api.sent(chat=chat)[2].params["text"] for chat, language in chats.items()}
    assert "花子 みどり小学校 登校" in status[Language.JA] and status[Language.EN].startswith("Today:\n")
    menus = {m.params["scope"]["chat_id"]: m.params["commands"] for m in telegram_api.sent("setMyCommands")}
    assert (
        menus[4300 + list(Language).index(Language.FIL)][0]["description"] == "mga pagdating at pag-alis ngayong araw"
    )


async def test_the_line_quick_replies_are_in_every_guardians_language(database_url, line_api, line_client) -> None:
    for n, language in enumerate(Language):
        guardian = await make_guardian(f"保護者 {n}", language=language)
        body = line_api.webhook_body(line_api.text_event(f"U{n}", await issue_link_code(guardian.id)))
        headers = {"X-Line-Signature": line_api.sign(body)}
        assert (await line_client.post("/hooks/line", content=body, headers=headers)).is_success

        text = line_api.replies()[-1].body["messages"][0]
        assert_one_language(text["text"], language, names=COMMANDS)
        actions = [i["action"] for i in text["quickReply"]["items"]]
        assert len(actions) == 9 and all(len(a["label"]) <= 20 for a in actions)
        assert_one_language(" ".join(a["label"] for a in actions), language)
        assert all(parse_command(a["text"])[0] is not None for a in actions)  # a tap sends a command word
