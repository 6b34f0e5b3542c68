"""Notices by web push: what the guardian's phone shows, and the push service's answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core import sealing
from core.keyring import Keyring
from core.models import AddressStatus, Channel, ContactAddress, Delivery, DeliveryStatus, NoticeKind
from tests.factories import confirmed_broadcast, make_guardian, make_pupil, make_site, queue_passage_notice
from tests.fakes.push_service import FakePushService
from tests.webpush.conftest import add_device, deliver, subscribed


async def test_a_passage_notice_shows_the_given_name_school_and_time_and_opens_the_photo_page(
    database_url, push_service: FakePushService, push_settings
) -> None:
    guardian = await make_guardian()
    phone = subscribed(push_service)
    await queue_passage_notice(await add_device(guardian.id, phone), photo_token="PHOTO-TOKEN-1")

    await deliver(push_settings)

    [push] = push_service.to(phone)
    shown = push.notification
    assert shown["title"] == "【見守り】花子さん 登校 7:58"
    assert "花子さん" in shown["body"] and "みどり小学校" in shown["body"] and "7:58" in shown["body"]
    assert "山田" not in json.dumps(shown, ensure_ascii=False)  # the family name never travels
    assert shown["url"] == "https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1"  # asks for a login
    assert shown["url"] not in shown["body"]  # the photo link is the tap, not text
    assert push.headers["Urgency"] == "high"
    assert 3500 <= int(push.headers["TTL"]) <= 3600  # no longer than the notice's expiry (an hour)
    assert push.headers["Topic"] == shown["tag"] and len(shown["tag"]) <= 32
    assert push.claims["sub"] == "mailto:board@city.example.jp"
    assert (await Delivery.get()).status is DeliveryStatus.SENT


async def test_an_alert_asking_for_acknowledgement_opens_its_ack_link(
    database_url, push_service: FakePushService, push_settings
) -> None:
    site = await make_site()
    pupil = await make_pupil(site)
    guardian = await make_guardian(pupils=[pupil])
    phone = subscribed(push_service)
    await add_device(guardian.id, phone)

    await confirmed_broadcast(title="不審者情報", body="下校時は複数で帰ってください。", ack_requested=True)
    await deliver(push_settings)

    [push] = push_service.to(phone)
    assert push.notification["title"].endswith("不審者情報")
    assert "下校時は複数で帰ってください。" in push.notification["body"]
    assert push.notification["url"].startswith("https://mimamori.city.example.jp/ack/")
    assert push.headers["Urgency"] == "high"


async def test_a_gone_subscription_makes_the_device_inactive_and_tells_the_other_address_once(
    database_url, push_service: FakePushService, push_settings
) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    phone = subscribed(push_service)
    device = await add_device(guardian.id, phone)
    push_service.answer(phone, 410, times=2)
    await queue_passage_notice(device)
    await queue_passage_notice(device, fact="passage:2", direction="departure")

    await deliver(push_settings)

    await device.refresh_from_db()
    assert device.status is AddressStatus.INACTIVE and "gone (410)" in device.last_failure
    told = await Delivery.filter(kind=NoticeKind.ADDRESS_INACTIVE)
    assert [d.channel for d in told] == [Channel.EMAIL]
    assert (await ContactAddress.get(id=told[0].address_id)).value == "keiko@example.jp"
    assert push_service.to(phone) == []


async def test_a_busy_push_service_is_retried_after_its_retry_after_and_a_failing_one_too(
    database_url, push_service: FakePushService, push_settings
) -> None:
    guardian = await make_guardian()
    phone = subscribed(push_service)
    device = await add_device(guardian.id, phone)
    push_service.answer(phone, 429, headers={"Retry-After": "0"})
    push_service.answer(phone, 500)
    await queue_passage_notice(device)

    await deliver(push_settings)

    assert len(push_service.to(phone)) == 1
    sent = await Delivery.get()
    assert sent.status is DeliveryStatus.SENT and sent.attempts == 3


async def test_a_long_alert_is_trimmed_to_fit_one_push_never_refused_as_too_large(
    database_url, push_service: FakePushService, push_settings
) -> None:
    site = await make_site()
    guardian = await make_guardian(pupils=[await make_pupil(site)])
    phone = subscribed(push_service)
    await add_device(guardian.id, phone)

    await confirmed_broadcast(title="台風接近", body="明日の授業について。" * 199)
    await deliver(push_settings)

    [push] = push_service.to(phone)
    assert push.notification["body"].endswith("…") and push_service.refused == []


async def test_after_a_key_rotation_old_devices_are_signed_with_their_key_and_new_ones_with_the_new(
    database_url, push_service: FakePushService, push_settings, tmp_path: Path
) -> None:
    ring_file = tmp_path / "keyring.json"
    shutil.copy(push_settings.keyring, ring_file)
    sealing.install(sealing.Sealer(Keyring.open(str(ring_file))))
    settings = push_settings.model_copy(update={"keyring": str(ring_file)})
    guardian = await make_guardian()
    old_phone = subscribed(push_service)
    await add_device(guardian.id, old_phone)

    ring = Keyring.open(str(ring_file))  # what `mimamori keys rotate` does, in another process
    ring.add_key()
    new_key = ring.add_vapid_key()
    ring.save()
    sealing.install(sealing.Sealer(Keyring.open(str(ring_file))))
    new_phone = subscribed(push_service)
    assert sealing.installed().keyring.vapid_current == new_key
    await add_device((await make_guardian("佐藤 直樹")).id, new_phone)
    for n, device in enumerate(await ContactAddress.filter(channel=Channel.WEBPUSH)):
        await queue_passage_notice(device, fact=f"passage:{n}")

    await deliver(settings)

    assert push_service.refused == []
    assert len(push_service.to(old_phone)) == len(push_service.to(new_phone)) == 1
    assert old_phone.application_server_key != new_phone.application_server_key


async def test_a_device_whose_key_was_removed_fails_clearly(
    database_url, push_service: FakePushService, push_settings
) -> None:
    guardian = await make_guardian()
    phone = subscribed(push_service)
    device = await add_device(guardian.id, phone)
    device.value = device.value.replace('"vapid": "v1"', '"vapid": "v99"')
    await device.save()
    await queue_passage_notice(device)

    await deliver(push_settings)

    failed = await Delivery.get()
    assert failed.status is DeliveryStatus.FAILED and "no longer in the keyring" in failed.last_error
    assert push_service.pushes == []
