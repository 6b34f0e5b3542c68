"""A gate reports a pass: what is stored, which way the child went, and who is told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from core.addresses import add_pending_address
from core.models import (
    Channel,
    Delivery,
    Direction,
    Gate,
    NoticeKind,
    Passage,
    PassageOutcome,
    Photo,
    SiteKind,
    Tag,
    TagStatus,
)
from core.passages import is_jpeg, record_passage
from core.preferences import in_quiet_hours
from core.wire import PassageEvent
from core.zones import DEFAULT as TOKYO
from tests.factories import make_gate, make_guardian, make_pupil, make_site, make_site_staff

# 07:58 in Tokyo two days ahead: notices expire an hour after the pass, so a pass in the past
# would never be sent.
MORNING = datetime.combine(datetime.now(TOKYO).date() + timedelta(days=2), time(7, 58, 10), TOKYO).astimezone(UTC)
AFTERNOON = MORNING + timedelta(hours=7, minutes=32)  # 15:30
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 500 + b"\xff\xd9"


def _event(tag: str, seen_at: datetime, event_id: uuid.UUID | None = None) -> PassageEvent:
    return PassageEvent(event_id=event_id or uuid.uuid4(), tag=tag, seen_at=seen_at, reader="entrance")


async def _school(kind: SiteKind = SiteKind.SCHOOL):
    site = await make_site("みどり小学校" if kind is SiteKind.SCHOOL else "ひかり児童館", kind)
    gate, _ = await make_gate(site)
    pupil = await make_pupil(site, "山田 花子", tag="0A1B2C3D4E")
    guardian = await make_guardian("山田 恵子", pupils=[pupil], emails=["keiko@example.jp"])
    return site, gate, pupil, guardian


async def _pass(gate, settings, seen_at: datetime, tag: str = "0A1B2C3D4E", photo: bytes | None = None):
    return (await record_passage(gate, _event(tag, seen_at), photo, settings)).passage


async def _notices(kind: NoticeKind = NoticeKind.PASSAGE) -> list[Delivery]:
    return await Delivery.filter(kind=kind).order_by("id")


async def test_the_morning_pass_tells_the_guardian_her_child_arrived_with_the_photo_link(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    _, gate, _, _ = await _school()

    passage = await _pass(gate, mail_settings, MORNING, photo=JPEG)
    await deliver()

    assert passage.direction is Direction.ARRIVAL and passage.outcome is PassageOutcome.NOTIFIED
    [mail] = mail_sink.received
    assert mail.message["Subject"] == "【見守り】花子さん 登校 7:58"
    assert "花子さんが7:58にみどり小学校に登校しました。" in mail.text
    photo = await Photo.get(passage_id=passage.id)
    assert photo.jpeg == JPEG and photo.size == len(JPEG)
    assert f"https://mimamori.city.example.jp/photos/{photo.token}" in mail.text
    assert len(photo.token) >= 32


async def test_a_passage_notice_is_urgent_and_expires_an_hour_after_the_pass(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    await _pass(gate, settings, MORNING)
    [notice] = await _notices()
    assert notice.priority == 0 and notice.expires_at == MORNING + timedelta(minutes=60)


async def test_the_same_event_uploaded_twice_is_one_passage_and_one_notice(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    event = _event("0A1B2C3D4E", MORNING)
    first = await record_passage(gate, event, JPEG, settings)
    again = await record_passage(gate, event, JPEG, settings)
    assert not first.duplicate and again.duplicate and again.passage.id == first.passage.id
    assert await Passage.all().count() == 1 and len(await _notices()) == 1
    assert await Photo.all().count() == 1


async def test_the_day_alternates_arrival_and_departure(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    directions = [(await _pass(gate, settings, MORNING + timedelta(hours=h))).direction for h in (0, 4, 5, 7)]
    assert directions == [Direction.ARRIVAL, Direction.DEPARTURE, Direction.ARRIVAL, Direction.DEPARTURE]
    next_morning = await _pass(gate, settings, MORNING + timedelta(days=1))
    assert next_morning.direction is Direction.ARRIVAL
    assert [n.payload for n in await _notices()][-1].count('"departure"') == 0


async def test_a_first_pass_after_the_cutoff_is_a_departure(database_url, settings) -> None:
    site, gate, _, _ = await _school()
    assert (await _pass(gate, settings, AFTERNOON)).direction is Direction.DEPARTURE
    site.cutoff = time(16, 0)
    await site.save()
    gate = await Gate.get(id=gate.id)
    later = await _pass(gate, settings, AFTERNOON + timedelta(days=1))
    assert later.direction is Direction.ARRIVAL


async def test_a_second_pass_within_ten_minutes_is_stored_but_tells_nobody(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    first = await _pass(gate, settings, MORNING)
    repeat = await _pass(gate, settings, MORNING + timedelta(minutes=9))
    assert repeat.outcome is PassageOutcome.REPEAT and repeat.direction is first.direction
    assert len(await _notices()) == 1
    leaving = await _pass(gate, settings, MORNING + timedelta(minutes=25))
    assert leaving.outcome is PassageOutcome.NOTIFIED and leaving.direction is Direction.DEPARTURE
    assert len(await _notices()) == 2


async def test_a_late_upload_of_an_earlier_pass_is_a_repeat_not_a_new_direction(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    await _pass(gate, settings, MORNING)
    side_gate, _ = await make_gate(await gate.site, "裏門")
    earlier = await _pass(side_gate, settings, MORNING - timedelta(minutes=3))
    assert earlier.outcome is PassageOutcome.REPEAT and earlier.direction is Direction.ARRIVAL


async def test_a_hall_records_a_passage(database_url, settings, mail_settings, mail_sink, deliver) -> None:
    _, gate, _, _ = await _school(SiteKind.HALL)
    passages = [await _pass(gate, mail_settings, MORNING + timedelta(hours=h)) for h in (0, 8)]
    assert [p.direction for p in passages] == [Direction.PASSAGE, Direction.PASSAGE]
    await deliver()
    assert sorted(m.message["Subject"] for m in mail_sink.received) == [
        "【見守り】花子さん 通過 15:58",
        "【見守り】花子さん 通過 7:58",
    ]


async def test_every_verified_address_is_told_but_not_a_pending_one(database_url, settings) -> None:
    _, gate, _, guardian = await _school()
    await add_pending_address(guardian.id, Channel.EMAIL, "new@example.jp")
    second = await make_guardian(
        "山田 健一", pupils=[await (await Tag.get()).pupil], emails=["ken@example.jp", "k@docomo.ne.jp"]
    )
    await _pass(gate, settings, MORNING)
    notices = await _notices()
    assert len(notices) == 3 and {n.guardian_id for n in notices} == {guardian.id, second.id}


async def test_paused_guardians_and_guardians_in_quiet_hours_are_not_told(database_url, settings) -> None:
    _, gate, pupil, guardian = await _school()
    guardian.passages_paused = True
    await guardian.save()
    sleepy = await make_guardian("山田 健一", pupils=[pupil], emails=["ken@example.jp"])
    sleepy.quiet_start, sleepy.quiet_end = time(22, 0), time(8, 0)
    await sleepy.save()
    without_service = await make_guardian("山田 祖母", pupils=[pupil], emails=["baba@example.jp"])
    without_service.wants_passages = False
    await without_service.save()

    passage = await _pass(gate, settings, MORNING)  # 07:58
    assert passage.outcome is PassageOutcome.NOTIFIED and await _notices() == []

    await _pass(gate, settings, AFTERNOON)
    assert [n.guardian_id for n in await _notices()] == [sleepy.id]


def test_quiet_hours_may_span_midnight() -> None:
    assert in_quiet_hours(time(23, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(6, 59), time(22, 0), time(7, 0))
    assert not in_quiet_hours(time(7, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(13, 0), None, None)


async def test_an_unknown_tag_is_stored_and_shown_to_the_sites_staff_once_a_day(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    site, gate, _, _ = await _school()
    await make_site_staff(site, "kato@school.example.jp")
    other = await make_site("さくら小学校")
    await make_site_staff(other, "sato@school.example.jp")

    first = await _pass(gate, mail_settings, MORNING, tag="FFFF000001")
    await _pass(gate, mail_settings, MORNING + timedelta(hours=2), tag="FFFF000001")
    await deliver()

    assert first.outcome is PassageOutcome.UNKNOWN_TAG and first.pupil_id is None and first.direction is None
    assert first.tag_number == "FFFF000001"
    assert await _notices() == []
    [mail] = mail_sink.received
    assert mail.rcpt_tos == ("kato@school.example.jp",)
    assert mail.message["Subject"] == "【見守り・職員】未登録タグの読み取り: みどり小学校 正門"
    assert "登録されていないタグが7:58にみどり小学校の正門で読み取られました。" in mail.text


async def test_a_lost_tag_tells_staff_and_a_retired_one_nobody(database_url, settings) -> None:
    site, gate, pupil, _ = await _school()
    await make_site_staff(site, "kato@school.example.jp")
    tag = await Tag.get(pupil_id=pupil.id)
    tag.status = TagStatus.LOST
    await tag.save()
    lost = await _pass(gate, settings, MORNING)
    tag.status = TagStatus.RETIRED
    await tag.save()
    retired = await _pass(gate, settings, MORNING + timedelta(hours=1))

    assert lost.outcome is PassageOutcome.LOST_TAG and retired.outcome is PassageOutcome.RETIRED_TAG
    assert await _notices() == []
    [staff_notice] = await _notices(NoticeKind.STAFF)
    assert '"lost_tag_read"' in staff_notice.payload


async def test_the_tag_number_is_matched_as_typed_on_the_roster(database_url, settings) -> None:
    _, gate, _, _ = await _school()
    passage = await _pass(gate, settings, MORNING, tag="0a1b2c3d4e")
    assert passage.outcome is PassageOutcome.NOTIFIED


def test_a_jpeg_is_told_apart_from_other_bytes() -> None:
    assert is_jpeg(JPEG)
    assert is_jpeg(JPEG + b"\x00" * 10)
    assert not is_jpeg(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert not is_jpeg(JPEG[:-2])


async def test_a_notice_for_a_site_in_another_zone_shows_that_zones_time(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    site = await make_site()
    site.timezone = "Pacific/Honolulu"  # UTC-10 all year: 07:58 in Tokyo is 12:58 of the day before there
    await site.save(update_fields=["timezone"])
    gate, _ = await make_gate(site)
    await make_guardian(pupils=[await make_pupil(site, tag="0A1B2C3D4E")], emails=["keiko@example.jp"])

    passage = await _pass(gate, mail_settings, MORNING)
    await deliver()

    assert passage.direction is Direction.DEPARTURE  # after the 12:00 cutoff, there
    [mail] = mail_sink.received
    assert mail.message["Subject"] == "【見守り】花子さん 下校 12:58"
    assert "花子さんが12:58にみどり小学校から下校しました。" in mail.text
