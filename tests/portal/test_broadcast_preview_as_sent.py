"""The staff preview of a broadcast is exactly what the chats are sent: the same rendering, the
same chat text (core.delivery.render.RenderedNotice.chat_text), compared byte for byte with what
the Telegram and LINE fakes received."""

from __future__ import annotations

import html
import re

import pytest

from core.delivery.worker import DeliveryWorker
from core.models import Channel, ContactAddress, Delivery, Language
from core.passwords import Passwords
from core.scheduler import drain
from portal.app import create_app
from tests.bot.conftest import add_chat, bot_settings, line_api, telegram_api  # noqa: F401 (fixtures)
from tests.factories import make_guardian
from tests.portal.test_staff_broadcasts import TEXT, _teacher


@pytest.fixture
def app(bot_settings):  # noqa: F811 - the portal on the settings the chat fakes answer to
    return create_app(bot_settings)


async def test_the_chat_previews_are_byte_for_byte_what_telegram_and_line_are_sent(
    new_browser,
    passwords: Passwords,
    family,
    bot_settings,
    telegram_api,
    line_api,  # noqa: F811
) -> None:
    """Before, the LINE and Telegram previews left out the first line (the subject) the real message has."""
    await add_chat(family.guardian.id, Channel.TELEGRAM, "4242")
    english = await make_guardian("Jane Smith", pupils=[family.pupil], language=Language.EN)
    await add_chat(english.id, Channel.LINE, "U" + "e" * 32)
    framed = await make_guardian("Nguyen Lan", pupils=[family.pupil], language=Language.VI)
    await add_chat(framed.id, Channel.TELEGRAM, "4343")
    browser = await _teacher(new_browser, passwords, family.site)
    draft = await browser.post(
        "/staff/broadcasts",
        {
            **TEXT,
            "ack": "1",
            "target": str(family.site.id),
            "translation_language": "en",
            "translation_title": "A stranger near the gate",
            "translation_body": "A stranger was seen near the main gate.\nPlease pick your child up.",
        },
    )
    preview = await browser.get(draft.headers["location"])
    await browser.post(draft.headers["location"].replace("/preview", "/confirm"))
    await _deliver_to_chats(bot_settings)

    shown = {
        (language, channel): _preview_text(preview.text, language, channel)
        for language, channel in (("ja", "telegram"), ("vi", "telegram"), ("en", "line"))
    }
    for chat, language in (("4242", "ja"), ("4343", "vi")):
        [sent] = telegram_api.sent(chat=chat)
        token = (await Delivery.get(address__value_index=(await _address(chat)).value_index)).ack_token
        assert sent.params["text"] == shown[(language, "telegram")].replace("/ack/PREVIEW", f"/ack/{token}")
        assert sent.params["text"].splitlines()[0] in (
            "【不審者情報】不審者の目撃情報",
            "[Người khả nghi] 不審者の目撃情報",
        )
    [line] = line_api.to("multicast") + line_api.to("push")  # one identical message: pushed, or multicast to many
    assert line.body["messages"][0]["text"] == shown[("en", "line")]
    assert line.body["messages"][0]["text"].startswith("[Suspicious person] A stranger near the gate\n\n")


def _preview_text(page: str, language: str, channel: str) -> str:
    found = re.search(
        rf'<div class="preview {channel}" lang="{language}">(.*?)</div>', _raw_section(page, language), re.S
    )
    assert found, (language, channel)
    return html.unescape(found.group(1))


def _raw_section(page: str, language: str) -> str:
    found = re.search(rf'<section class="sample" id="sample-{language}">(.*?)</section>', page, re.S)
    assert found, language
    return found.group(1)


async def _address(chat: str) -> ContactAddress:
    return next(a for a in await ContactAddress.filter(channel=Channel.TELEGRAM) if a.value == chat)


async def _deliver_to_chats(settings) -> None:
    from bot.line.transport import LineTransport
    from bot.telegram.transport import TelegramTransport

    transports = {Channel.TELEGRAM: TelegramTransport(settings.telegram), Channel.LINE: LineTransport(settings.line)}
    try:
        await drain(settings, DeliveryWorker(settings, transports), timeout=30)
    finally:
        for transport in transports.values():
            await transport.close()
