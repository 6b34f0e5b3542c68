"""Notices on Telegram: what the chat shows, and what happens when Telegram pushes back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.telegram.transport import TelegramTransport
from core import broadcasts
from core.channels import CHANNELS, Still
from core.delivery.outbox import Priority, enqueue
from core.delivery.worker import DeliveryWorker
from core.models import (
    AddressStatus,
    BroadcastAnswer,
    BroadcastCategory,
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Guardian,
    NoticeKind,
    Passage,
    Photo,
    Pupil,
)
from core.scheduler import drain
from tests.bot.conftest import TELEGRAM_HEADERS as HEADERS
from tests.bot.conftest import add_chat
from tests.factories import make_guardian, make_passage, make_pupil, make_site

SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)  # 07:58 on the 26th in Tokyo


async def _deliver(settings) -> None:
    transport = TelegramTransport(settings.telegram)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.TELEGRAM: transport}), timeout=30)
    finally:
        await transport.close()


async def _passage_notice(address: ContactAddress, *, passage_id: int | None = None) -> Delivery:
    return await enqueue(
        kind=NoticeKind.PASSAGE,
        fact=f"passage:{passage_id or 1}",
        address=address,
        priority=Priority.TRANSACTIONAL,
        passage_id=passage_id,
        payload={
            "pupil": "花子",
            "site": "みどり小学校",
            "direction": "arrival",
            "seen_at": SEEN.isoformat(),
            "photo_token": "PHOTO-TOKEN-1",
        },
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_a_passage_notice_arrives_with_the_photo_as_a_link_button(
    database_url, telegram_api, bot_settings
) -> None:
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.TELEGRAM, "4242"))

    await _deliver(bot_settings)

    [message] = telegram_api.sent(chat="4242")
    assert message.params["text"].startswith("【見守り】花子さん 登校 7:58")
    assert "花子さんが7:58にみどり小学校に登校しました。" in message.params["text"]
    [[button]] = message.params["reply_markup"]["inline_keyboard"]
    assert button == {"text": "写真を見る", "url": "https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1"}
    assert telegram_api.sent("sendPhoto") == []  # the still stays on our servers by default
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.SENT and delivery.provider_message_id.isdigit()  # not the chat id


async def _passage_with_still(pupil: Pupil, token: str) -> tuple[Passage, bytes]:
    passage = await make_passage(pupil, await pupil.school, seen_at=SEEN)
    jpeg = b"\xff\xd8\xff\xe0JFIF-still" + token.encode() + bytes(200)
    await Photo.create(
        passage=passage, token=token, jpeg=jpeg, size=len(jpeg), taken_at=SEEN, expires_at=SEEN + timedelta(days=30)
    )
    return passage, jpeg


async def _opted_in_passage_notice() -> bytes:
    """A passage notice with a still, queued for chat 4242 of a guardian who opted in to photos."""
    pupil = await make_pupil(await make_site())
    guardian = await make_guardian(pupils=[pupil])
    guardian.photos_in_chat = True
    await guardian.save()
    passage, jpeg = await _passage_with_still(pupil, "PHOTO-TOKEN-1")
    await _passage_notice(await add_chat(guardian.id, Channel.TELEGRAM, "4242"), passage_id=passage.id)
    return jpeg


async def test_a_guardian_who_opted_in_gets_the_still_in_the_chat(database_url, telegram_api, bot_settings) -> None:
    jpeg = await _opted_in_passage_notice()

    await _deliver(bot_settings)

    [photo] = telegram_api.sent("sendPhoto", chat="4242")
    assert jpeg in [v for v in photo.params.values() if isinstance(v, bytes)]
    assert "登校しました" in photo.params["caption"]


async def test_photos_on_in_the_chat_brings_the_still_and_photos_off_stops_it(
    database_url, telegram_api, bot_settings, telegram_client
) -> None:
    pupil = await make_pupil(await make_site())
    guardian = await make_guardian(pupils=[pupil])
    chat = await add_chat(guardian.id, Channel.TELEGRAM, "4242")

    await telegram_client.post("/hooks/telegram", json=telegram_api.text_update(4242, "写真オン"), headers=HEADERS)
    passage, jpeg = await _passage_with_still(pupil, "PHOTO-TOKEN-1")
    await _passage_notice(chat, passage_id=passage.id)
    await _deliver(bot_settings)

    [answer] = telegram_api.sent(chat="4242")
    assert "チャット（LINE・Telegram）にも送ります" in answer.params["text"]
    [photo] = telegram_api.sent("sendPhoto", chat="4242")
    assert jpeg in [v for v in photo.params.values() if isinstance(v, bytes)]

    await telegram_client.post("/hooks/telegram", json=telegram_api.text_update(4242, "/photos_off"), headers=HEADERS)
    later, _ = await _passage_with_still(pupil, "PHOTO-TOKEN-2")
    await _passage_notice(chat, passage_id=later.id)
    await _deliver(bot_settings)

    assert len(telegram_api.sent("sendPhoto", chat="4242")) == 1  # the second notice came as text and link
    assert not (await Guardian.get(id=guardian.id)).photos_in_chat


async def test_retry_after_is_waited_exactly_then_the_notice_goes(database_url, telegram_api, bot_settings) -> None:
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.TELEGRAM, "4242"))
    telegram_api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    await _deliver(bot_settings)

    first, second = telegram_api.sent(chat="4242")
    assert second.at - first.at >= 1.0
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 2


async def test_a_blocked_bot_makes_the_chat_inactive_and_tells_the_other_address_once(
    database_url, telegram_api, bot_settings
) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    chat = await add_chat(guardian.id, Channel.TELEGRAM, "4242")
    telegram_api.blocked.add("4242")
    await _passage_notice(chat)
    await enqueue(
        kind=NoticeKind.PASSAGE,
        fact="passage:2",
        address=chat,
        payload={
            "pupil": "花子",
            "site": "みどり小学校",
            "direction": "departure",
            "seen_at": SEEN.isoformat(),
        },
    )

    await _deliver(bot_settings)

    await chat.refresh_from_db()
    assert chat.status is AddressStatus.INACTIVE and "blocked" in chat.last_failure
    told = await Delivery.filter(kind=NoticeKind.ADDRESS_INACTIVE)
    assert [(d.channel, d.address_id) for d in told] == [(Channel.EMAIL, guardian_email_id := told[0].address_id)]
    assert (await ContactAddress.get(id=guardian_email_id)).value == "keiko@example.jp"
    assert await Delivery.filter(kind=NoticeKind.PASSAGE, status=DeliveryStatus.FAILED).count() == 2


async def test_server_errors_retry_and_a_vanished_chat_fails(database_url, telegram_api, bot_settings) -> None:
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.TELEGRAM, "4242"))
    telegram_api.fail("sendMessage", 502, "Bad Gateway", times=2)
    await _deliver(bot_settings)
    assert (await Delivery.get()).status is DeliveryStatus.SENT

    other = await make_guardian("佐藤 直樹")
    await _passage_notice(await add_chat(other.id, Channel.TELEGRAM, "999"))
    telegram_api.fail("sendMessage", 400, "Bad Request: chat not found")
    await _deliver(bot_settings)
    failed = await Delivery.get(status=DeliveryStatus.FAILED)
    assert failed.last_error == "Telegram refused: the chat does not exist"
    assert (await ContactAddress.get(id=failed.address_id)).failure_count == 1


async def test_a_broadcast_asking_for_acknowledgement_gets_a_button_that_records_it(
    database_url, telegram_api, bot_settings, telegram_client
) -> None:
    guardian = await make_guardian(pupils=[await make_pupil(await make_site())])
    await add_chat(guardian.id, Channel.TELEGRAM, "4242")
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="児童は学校で待機しています。",
        ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)

    await _deliver(bot_settings)

    [message] = telegram_api.sent(chat="4242")
    assert message.params["text"].startswith("【災害情報】地震")
    [[button]] = message.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "確認しました" and button["callback_data"].startswith("ack:")
    pressed = telegram_api.button_update(4242, button["callback_data"])
    response = await telegram_client.post("/hooks/telegram", json=pressed, headers=HEADERS)
    assert response.status_code == 200
    [ack] = await BroadcastAnswer.filter(broadcast_id=draft.id)
    assert (ack.guardian_id, ack.channel) == (guardian.id, "telegram")
    assert "確認を受け付けました" in telegram_api.sent(chat="4242")[-1].params["text"]


async def test_a_chat_channel_that_carries_no_still_sends_none_even_to_a_guardian_who_opted_in(
    database_url, telegram_api, bot_settings, monkeypatch
) -> None:
    """The still goes as the channel's facts say, not to whatever channel is not mail (a new channel
    once got the JPEG bytes for nothing more than not being email)."""
    monkeypatch.setitem(CHANNELS, Channel.TELEGRAM, replace(CHANNELS[Channel.TELEGRAM], still=Still.NONE))
    await _opted_in_passage_notice()

    await _deliver(bot_settings)

    assert telegram_api.sent("sendPhoto") == []
    [message] = telegram_api.sent(chat="4242")
    assert "花子さんが7:58にみどり小学校に登校しました。" in message.params["text"]
