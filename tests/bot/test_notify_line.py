"""Notices on LINE: push with a retry key, multicast for broadcasts, and LINE's refusals."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import cv2
import numpy as np

from bot.line.transport import LineTransport, retry_key
from core import broadcasts
from core.channels import spec
from core.channels.line_photos import PREVIEW_MAX_BYTES, chat_photo_token
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
    Language,
    NoticeKind,
    Passage,
    Photo,
    PhotoView,
)
from core.photos import views_of
from core.scheduler import drain
from tests.bot.conftest import add_chat
from tests.factories import make_guardian, make_passage, make_pupil, make_site

SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)


async def _deliver(settings) -> None:
    transport = LineTransport(settings.line)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.LINE: transport}), timeout=30)
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


async def test_a_passage_notice_is_pushed_with_a_photo_link_button_and_a_retry_key(
    database_url, line_api, bot_settings
) -> None:
    guardian = await make_guardian()
    delivery = await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"))

    await _deliver(bot_settings)

    [push] = line_api.pushed_to("U1")
    text, buttons = push.body["messages"]
    assert text["text"].startswith("【見守り】花子さん 登校 7:58") and "登校しました" in text["text"]
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
    assert (
        refused.status is DeliveryStatus.FAILED
        and refused.last_error == "LINE refused: the LINE user id is not valid (400)"
    )
    assert (await ContactAddress.get(id=refused.address_id)).failure_count == 1


async def test_a_broadcast_goes_by_multicast_in_chunks_with_one_ack_postback(
    database_url, line_api, bot_settings
) -> None:
    settings = load_settings(
        None,
        **{
            **bot_settings.model_dump(),
            "line": {**bot_settings.line.model_dump(), "multicast_size": 5, "access_token": line_api.access_token},
        },
    )
    users = [f"U{n:03d}" for n in range(12)]
    for user in users:
        await add_chat((await make_guardian(f"保護者 {user}")).id, Channel.LINE, user)
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="児童は学校で待機しています。",
        ack_requested=True,
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
        {
            "type": "postback",
            "label": "確認しました",
            "data": f"ack-broadcast:{draft.id}",
            "displayText": "確認しました",
        }
    ]
    assert len({m.retry_key for m in multicasts}) == 3
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 12


async def test_a_city_wide_broadcast_fills_multicasts_of_500(database_url, line_api, bot_settings) -> None:
    await Guardian.bulk_create(
        [Guardian(login_id=f"M{n:07d}", name="保護者", name_index=f"{n:064x}", password_hash="x") for n in range(1100)]
    )
    ids = await Guardian.filter(login_id__startswith="M").order_by("id").values_list("id", flat=True)
    now = datetime.now(UTC)
    await ContactAddress.bulk_create(
        [
            ContactAddress(
                guardian_id=g,
                channel=Channel.LINE,
                value=f"U{g:032d}",
                value_index=f"{g:064x}",
                lane=spec(Channel.LINE).lane(f"U{g:032d}"),
                slot=1,
                status=AddressStatus.ACTIVE,
                verified_at=now,
            )
            for g in ids
        ],
        batch_size=500,
    )
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.CLOSURE,
        title="休校",
        body="明日は休校です。",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(bot_settings)

    await _deliver(bot_settings)

    assert sorted(len(m.body["to"]) for m in line_api.to("multicast")) == [100, 500, 500]
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 1100


# ---- the still, for guardians who opted in -------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0JFIF-still" + bytes(200)


async def _photographed_passage(
    *, opted_in: bool = True, jpeg: bytes = JPEG, school: str = "みどり小学校"
) -> tuple[Guardian, Passage]:
    site = await make_site(school)
    pupil = await make_pupil(site)
    guardian = await make_guardian(pupils=[pupil])
    guardian.photos_in_chat = opted_in
    await guardian.save()
    passage = await make_passage(pupil, site, seen_at=SEEN)
    await Photo.create(
        passage=passage,
        token=f"PHOTO-TOKEN-{passage.id}",
        jpeg=jpeg,
        size=len(jpeg),
        taken_at=SEEN,
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    return guardian, passage


def _images(push) -> list[dict]:
    return [m for m in push.body["messages"] if m["type"] == "image"]


async def test_a_guardian_who_opted_in_gets_the_still_as_an_image_line_fetches_from_the_portal(
    database_url, line_api, bot_settings, line_client
) -> None:
    guardian, passage = await _photographed_passage()
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"), passage_id=passage.id)

    await _deliver(bot_settings)

    [push] = line_api.pushed_to("U1")
    assert [m["type"] for m in push.body["messages"]] == ["text", "image", "template"]
    [image] = _images(push)
    original, preview = urlsplit(image["originalContentUrl"]), urlsplit(image["previewImageUrl"])
    assert original.scheme == "https" and original.netloc == "mimamori.city.example.jp"
    assert original.path.startswith("/chat-photos/") and preview.path == f"{original.path}/preview"
    assert len(original.path.split("/")[-1]) >= 40 and "PHOTO-TOKEN" not in original.path  # opaque

    fetched = await line_client.get(original.path)  # as LINE's servers do, without any login
    assert fetched.status_code == 200 and fetched.content == JPEG
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["cache-control"] == "no-store" and fetched.headers["x-content-type-options"] == "nosniff"
    assert (await line_client.get(preview.path)).content == JPEG  # small enough to be its own preview

    views = await PhotoView.filter(photo__passage_id=passage.id)
    assert len(views) == 2 and {(v.guardian_id, v.via) for v in views} == {(guardian.id, "line")}
    photo = await Photo.get(passage_id=passage.id)
    shown = [view.who.translate(Language.JA) for view in await views_of(photo, me=guardian)]  # on the photo page
    assert shown == ["LINE のサーバー（トークに表示するため）"] * 2


async def test_a_guardian_who_did_not_opt_in_gets_no_image(database_url, line_api, bot_settings) -> None:
    guardian, passage = await _photographed_passage(opted_in=False)
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"), passage_id=passage.id)

    await _deliver(bot_settings)

    [push] = line_api.pushed_to("U1")
    assert _images(push) == [] and len(push.body["messages"]) == 2


async def test_an_expired_altered_or_withdrawn_link_shows_nothing(
    database_url, line_api, bot_settings, line_client
) -> None:
    guardian, passage = await _photographed_passage()
    delivery = await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"), passage_id=passage.id)
    await _deliver(bot_settings)
    [image] = _images(line_api.pushed_to("U1")[0])
    path = urlsplit(image["originalContentUrl"]).path
    token = path.removeprefix("/chat-photos/")

    expired = chat_photo_token(delivery.id, datetime.now(UTC) - timedelta(seconds=1))
    altered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (expired, altered, token[:-4], "not-a-token", str(delivery.id)):
        answer = await line_client.get(f"/chat-photos/{bad}")
        assert answer.status_code == 404 and JPEG not in answer.content, bad
        assert (await line_client.get(f"/chat-photos/{bad}/preview")).status_code == 404

    guardian.photos_in_chat = False  # the guardian changed their mind after the notice went
    await guardian.save()
    assert (await line_client.get(path)).status_code == 404
    assert await PhotoView.all().count() == 0


async def test_without_an_https_portal_the_notice_goes_without_the_image_and_says_why_once(
    database_url, line_api, bot_settings, caplog
) -> None:
    settings = load_settings(
        None,
        **{
            **bot_settings.model_dump(),
            "portal": {"public_url": "http://10.0.0.5:8000"},
            "line": {**bot_settings.line.model_dump(), "access_token": line_api.access_token},
        },
    )
    for user in ("U1", "U2"):
        guardian, passage = await _photographed_passage(school=f"学校 {user}")
        await _passage_notice(await add_chat(guardian.id, Channel.LINE, user), passage_id=passage.id)

    with caplog.at_level(logging.WARNING, logger="core.delivery.compose"):
        await _deliver(settings)

    for user in ("U1", "U2"):
        [push] = line_api.pushed_to(user)
        assert _images(push) == [] and "登校しました" in push.body["messages"][0]["text"]
    [warning] = [r for r in caplog.records if r.name == "core.delivery.compose"]
    assert "https" in warning.getMessage()
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 2


async def test_a_large_still_gets_a_preview_within_lines_limit(
    database_url, line_api, bot_settings, line_client
) -> None:
    noise = np.random.default_rng(6).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 85])
    big = encoded.tobytes()
    assert ok and PREVIEW_MAX_BYTES < len(big) <= bot_settings.photos.max_bytes
    guardian, passage = await _photographed_passage(jpeg=big)
    await _passage_notice(await add_chat(guardian.id, Channel.LINE, "U1"), passage_id=passage.id)
    await _deliver(bot_settings)
    [image] = _images(line_api.pushed_to("U1")[0])

    original = await line_client.get(urlsplit(image["originalContentUrl"]).path)
    preview = await line_client.get(urlsplit(image["previewImageUrl"]).path)

    assert original.content == big
    assert preview.headers["content-type"] == "image/jpeg" and len(preview.content) <= PREVIEW_MAX_BYTES
    shown = cv2.imdecode(np.frombuffer(preview.content, np.uint8), cv2.IMREAD_COLOR)
    assert max(shown.shape[:2]) <= 1024
