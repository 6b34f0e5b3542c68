"""Notices on LINE: push with a retry key, multicast for broadcasts, and LINE's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.line_transport import LineTransport, retry_key
from core import broadcasts
from core.config import load_settings
from core.delivery.outbox import Priority, enqueue
from core.delivery.worker import DeliveryWorker
from core.models import (
    AddressStatus,
    BroadcastCategory,
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Guardian,
    NoticeKind,
)
from tests.bot.conftest import add_chat
from tests.factories import make_guardian

SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)


async def _deliver(settings) -> None:
    transport = LineTransport(settings.line)
    try:
        await DeliveryWorker(settings, {Channel.LINE: transport}).drain(timeout=30)
    finally:
        await transport.close()


async def _passage_notice(address: ContactAddress) -> Delivery:
    return await enqueue(
        kind=NoticeKind.PASSAGE, fact="passage:1", address=address, priority=Priority.URGENT,
        payload={"pupil": "花子", "site": "みどり小学校", "direction": "arrival",
                 "seen_at": SEEN.isoformat(), "photo_token": "PHOTO-TOKEN-1"},
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_a_passage_notice_is_pushed_with_a_photo_link_button_and_a_retry_key(database_url, line_api, bot_settings) -> None:
    guardian = await make_guardian()
    delivery = await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))

    await _deliver(bot_settings)

    [push] = line_api.pushed_to("U1")
    text, buttons = push.body["messages"]
    assert text["text"].startswith("【見守り】花子さん 登校 07:58") and "登校しました" in text["text"]
    assert buttons["template"]["actions"] == [
        {"type": "uri", "label": "写真を見る", "uri": "https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1"}
    ]
    assert push.retry_key == retry_key(delivery.idempotency_key)
    sent = await Delivery.get()
    assert sent.status is DeliveryStatus.SENT and sent.provider_message_id


async def test_a_retry_reuses_the_retry_key_so_nothing_is_sent_twice(database_url, line_api, bot_settings) -> None:
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))
    line_api.fail("push", 500, "Internal server error")

    await _deliver(bot_settings)

    first, second = line_api.pushed_to("U1")
    assert first.retry_key == second.retry_key
    assert (await Delivery.get()).status is DeliveryStatus.SENT


async def test_a_key_line_already_accepted_counts_as_sent(database_url, line_api, bot_settings) -> None:
    guardian = await make_guardian()
    delivery = await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))
    line_api._accepted[retry_key(delivery.idempotency_key)] = "req-earlier"  # a push whose answer we lost

    await _deliver(bot_settings)

    sent = await Delivery.get()
    assert sent.status is DeliveryStatus.SENT and sent.provider_message_id == "req-earlier"
    assert line_api.used == 0


async def test_rate_limited_pushes_back_off_and_go(database_url, line_api, bot_settings) -> None:
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))
    line_api.fail("push", 429, "The API rate limit has been exceeded. Try again later.", times=2)

    await _deliver(bot_settings)

    assert len(line_api.pushed_to("U1")) == 3
    assert (await Delivery.get()).status is DeliveryStatus.SENT


async def test_the_monthly_limit_fails_plainly_and_a_bad_user_id_counts_against_the_address(
    database_url, line_api, bot_settings
) -> None:
    line_api.monthly_limit = 0
    guardian = await make_guardian()
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))
    await _deliver(bot_settings)
    failed = await Delivery.get()
    assert failed.status is DeliveryStatus.FAILED
    assert failed.last_error == "LINE monthly message limit reached: no more LINE messages this month"

    line_api.monthly_limit = None
    other = await make_guardian("佐藤 直樹")
    await _passage_notice(await add_chat(other.id, Channel.LINE, "bad-id"))
    line_api.fail("push", 400, "The property, 'to', in the request body is invalid (line: -, column: -)")
    await _deliver(bot_settings)
    refused = await Delivery.get(address__guardian_id=other.id)
    assert refused.status is DeliveryStatus.FAILED and "'to'" in refused.last_error
    assert (await ContactAddress.get(id=refused.address_id)).failure_count == 1


async def test_a_broadcast_goes_by_multicast_in_chunks_with_one_ack_postback(database_url, line_api, bot_settings) -> None:
    settings = load_settings(None, **{**bot_settings.model_dump(), "line": {**bot_settings.line.model_dump(), "multicast_size": 5,
                                                                            "access_token": line_api.access_token}})
    users = [f"U{n:03d}" for n in range(12)]
    for user in users:
        await add_chat((await make_guardian(f"保護者 {user}")).id, Channel.LINE, user)
    draft = await broadcasts.create_draft(
        author=None, scope=broadcasts.Scope(), category=BroadcastCategory.DISASTER, title="地震",
        body="児童は学校で待機しています。", ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)

    await _deliver(settings)

    multicasts = line_api.to("multicast")
    assert sorted(len(m.body["to"]) for m in multicasts) == [2, 5, 5]
    assert sorted(u for m in multicasts for u in m.body["to"]) == users
    assert line_api.to("push") == []
    text, buttons = multicasts[0].body["messages"]
    assert "地震" in text["text"] and "「確認しました」を押してください" in text["text"]
    assert buttons["template"]["actions"] == [
        {"type": "postback", "label": "確認しました", "data": f"ack-broadcast:{draft.id}", "displayText": "確認しました"}
    ]
    assert len({m.retry_key for m in multicasts}) == 3
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 12


async def test_a_city_wide_broadcast_fills_multicasts_of_500(database_url, line_api, bot_settings) -> None:
    await Guardian.bulk_create([
        Guardian(login_id=f"M{n:07d}", name="保護者", name_index=f"{n:064x}", password_hash="x") for n in range(1100)
    ])
    ids = await Guardian.filter(login_id__startswith="M").order_by("id").values_list("id", flat=True)
    now = datetime.now(UTC)
    await ContactAddress.bulk_create([
        ContactAddress(guardian_id=g, channel=Channel.LINE, value=f"U{g:032d}", value_index=f"{g:064x}", slot=1,
                       status=AddressStatus.ACTIVE, verified_at=now)
        for g in ids
    ], batch_size=500)
    draft = await broadcasts.create_draft(
        author=None, scope=broadcasts.Scope(), category=BroadcastCategory.CLOSURE, title="休校",
        body="明日は休校です。", ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(bot_settings)

    await _deliver(bot_settings)

    assert sorted(len(m.body["to"]) for m in line_api.to("multicast")) == [100, 500, 500]
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 1100
