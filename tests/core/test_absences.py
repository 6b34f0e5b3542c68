"""A guardian reports a child absent, late or leaving early: who may, for which days, recorded once,
confirmed to the whole family, and the reason kept sealed."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import absences, calendar_entries
from core.absences import Details, Reporter
from core.config import load_settings
from core.db import connection
from core.delivery.compose import payload_context
from core.delivery.render import render
from core.errors import NotFound, UserError
from core.models import (
    AbsenceReport,
    AuditEntry,
    CalendarDayKind,
    Channel,
    Delivery,
    Guardian,
    Language,
    NoticeKind,
    Priority,
    ReportKind,
    ReportReason,
    ReportVia,
    StaffAccount,
    StaffRole,
)
from tests.factories import make_guardian, make_pupil, make_site

TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = date(2026, 12, 21)  # a week with school Monday to Friday
EARLY_MONDAY = datetime(2026, 12, 21, 7, 10, tzinfo=TOKYO)  # before the 08:40 check
NOTE = "インフルエンザA型と診断されました"
COLLECTOR = "祖母の見守 トメ"


async def _family():
    site = await make_site()
    hanako = await make_pupil(site, "見守 花子")
    taro = await make_pupil(site, "見守 太郎")
    mother = await make_guardian("見守 恵子", pupils=[hanako, taro], emails=["keiko@example.jp", "keiko@work.example"])
    father = await make_guardian("見守 一郎", pupils=[hanako, taro], emails=["ichiro@example.jp"], language=Language.VI)
    return site, hanako, taro, mother, father


async def _tap(pupil, guardian, kind=ReportKind.ABSENT, reason=ReportReason.ILLNESS, *, now=EARLY_MONDAY, **more):
    """A one-day report for Monday, made on the portal (a tap of the send button)."""
    return await absences.record_report(
        pupil, kind, MONDAY, None, reason, guardian=guardian, via=ReportVia.PORTAL, now=now, **more
    )


def _by(guardian: Guardian) -> Reporter:
    return Reporter(ReportVia.PORTAL, guardian=guardian)


async def _confirmations() -> list[Delivery]:
    return await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT).order_by("id")


def _read(delivery: Delivery, language: Language) -> str:
    context = payload_context(delivery.kind, json.loads(delivery.payload), load_settings())
    notice = render(delivery.kind, delivery.channel, language, context)
    return f"{notice.subject}\n{notice.text}"


async def test_a_weeks_absence_is_confirmed_to_every_address_of_the_family_in_each_ones_language(
    database_url,
) -> None:
    _, hanako, _, mother, father = await _family()

    report = await absences.record_report(
        hanako,
        ReportKind.ABSENT,
        MONDAY,
        MONDAY + timedelta(days=4),
        ReportReason.ILLNESS,
        guardian=mother,
        via=ReportVia.PORTAL,
        note=NOTE,
        now=EARLY_MONDAY,
    )

    assert (report.kind, report.first_day, report.last_day, report.after_check) == (
        ReportKind.ABSENT,
        MONDAY,
        date(2026, 12, 25),
        False,
    )
    sent = await _confirmations()
    assert len(sent) == 3  # the mother's two addresses and the father's one
    assert {d.priority for d in sent} == {Priority.TRANSACTIONAL}
    japanese = _read(sent[0], Language.JA)
    assert "花子" in japanese and "欠席" in japanese and "12月21日" in japanese and "12月25日" in japanese
    assert "体調不良" not in japanese and NOTE not in japanese  # health information stays on the portal
    vietnamese = _read(sent[2], Language.VI)
    assert "花子" in vietnamese and "vắng" in vietnamese.lower()
    assert await AuditEntry.filter(action="absence.recorded", actor=f"guardian:{mother.id}").count() == 1


async def test_a_double_tap_records_once_and_confirms_once(database_url) -> None:
    _, hanako, _, mother, _ = await _family()
    taps = [await _tap(hanako, mother, ReportKind.LATE, ReportReason.HOSPITAL, at_time=time(10, 30)) for _ in range(2)]
    assert taps[0].id == taps[1].id
    assert await AbsenceReport.all().count() == 1
    assert len(await _confirmations()) == 3


async def test_both_children_in_one_step_or_neither(database_url) -> None:
    site, hanako, taro, mother, _ = await _family()
    stranger = await make_pupil(site, "他人 次郎")
    details = Details(ReportKind.ABSENT, MONDAY, MONDAY, ReportReason.FAMILY)

    with pytest.raises(NotFound):
        await absences.record_reports([hanako, stranger], details, _by(mother), now=EARLY_MONDAY)
    assert await AbsenceReport.all().count() == 0

    both = await absences.record_reports([hanako, taro], details, _by(mother), now=EARLY_MONDAY)
    assert {r.pupil_id for r in both} == {hanako.id, taro.id}


@pytest.mark.parametrize(
    ("details", "japanese"),
    [
        (Details(ReportKind.ABSENT, MONDAY - timedelta(days=3), MONDAY, ReportReason.OTHER), "過ぎています"),
        (Details(ReportKind.ABSENT, date(2026, 12, 26), date(2026, 12, 27), ReportReason.OTHER), "登校日がありません"),
        (Details(ReportKind.ABSENT, date(2026, 12, 26), date(2026, 12, 26), ReportReason.OTHER), "週末"),
        (Details(ReportKind.ABSENT, date(2027, 1, 11), date(2027, 1, 11), ReportReason.OTHER), "成人の日"),
        (Details(ReportKind.ABSENT, date(2026, 12, 24), date(2026, 12, 24), ReportReason.OTHER), "冬休み"),
        (Details(ReportKind.LATE, MONDAY, MONDAY, ReportReason.OTHER), "登校する時刻"),
        (Details(ReportKind.EARLY, MONDAY, MONDAY, ReportReason.OTHER, time(13)), "お迎え"),
        (Details(ReportKind.ABSENT, MONDAY, MONDAY - timedelta(days=1), ReportReason.OTHER), "最終日"),
    ],
)
async def test_a_report_that_cannot_be_taken_says_why_in_japanese(database_url, details, japanese) -> None:
    site, hanako, _, mother, _ = await _family()
    winter = calendar_entries.checked(date(2026, 12, 24), date(2026, 12, 24), CalendarDayKind.OFF, "冬休み")
    await calendar_entries.add_entries(site, [winter], actor="test")

    with pytest.raises(UserError) as refused:
        await absences.record_reports([hanako], details, _by(mother), now=EARLY_MONDAY)

    assert japanese in refused.value.message.translate(Language.JA)
    assert await AbsenceReport.all().count() == 0 and not await _confirmations()


async def test_a_pupil_not_the_guardians_is_not_found(database_url) -> None:
    site, hanako, _, _, _ = await _family()
    other = await make_guardian("他人", pupils=[await make_pupil(site, "他人 次郎")])
    with pytest.raises(NotFound):
        await _tap(hanako, other, ReportKind.ABSENT, ReportReason.OTHER)


async def test_after_the_check_time_a_change_and_a_withdrawal_are_taken_and_marked_late(database_url) -> None:
    _, hanako, _, mother, father = await _family()
    report = await _tap(hanako, mother, ReportKind.LATE, ReportReason.HOSPITAL, at_time=time(10))
    later = datetime(2026, 12, 21, 9, 5, tzinfo=TOKYO)

    changed = await absences.change_report(
        report.id, Details(ReportKind.LATE, MONDAY, MONDAY, ReportReason.HOSPITAL, time(11)), _by(father), now=later
    )
    assert changed.at_time == time(11) and changed.after_check
    withdrawn = await absences.withdraw_report(report.id, _by(father), now=later)
    assert withdrawn.withdrawn_at is not None

    actions = [e.action for e in await AuditEntry.filter(target=f"absence_report:{report.id}").order_by("id")]
    assert actions == ["absence.recorded", "absence.changed", "absence.withdrawn"]
    sent = await _confirmations()
    assert len(sent) == 9  # three times to the three addresses
    assert "取り消" in _read(sent[-1], Language.JA)
    with pytest.raises(UserError):
        await absences.withdraw_report(report.id, _by(mother), now=later)  # already withdrawn


async def test_a_report_made_after_the_check_time_is_a_late_report(database_url) -> None:
    _, hanako, _, mother, _ = await _family()
    report = await _tap(
        hanako, mother, ReportKind.ABSENT, ReportReason.ILLNESS, now=datetime(2026, 12, 21, 8, 41, tzinfo=TOKYO)
    )
    assert report.after_check
    assert "確認時刻" in _read((await _confirmations())[0], Language.JA)


async def test_staff_record_a_report_by_phone_for_their_own_school_only(database_url) -> None:
    site, hanako, _, mother, _ = await _family()
    other_school = await make_site("ひかり小学校")
    stranger = await make_pupil(other_school, "他校 三郎")
    clerk = await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x")
    await clerk.sites.add(site)
    by_phone = Reporter(ReportVia.STAFF, taken_by=clerk)
    details = Details(ReportKind.EARLY, MONDAY, MONDAY, ReportReason.HOSPITAL, time(13, 30), collector=COLLECTOR)

    [report] = await absences.record_reports([hanako], details, by_phone, now=EARLY_MONDAY)
    with pytest.raises(NotFound):
        await absences.record_reports([stranger], details, by_phone, now=EARLY_MONDAY)

    assert (report.taken_by_id, report.via, report.collector) == (clerk.id, ReportVia.STAFF, COLLECTOR)
    assert await AuditEntry.filter(action="absence.recorded", actor="staff:kato").count() == 1
    assert "電話" in _read((await _confirmations())[0], Language.JA)
    assert [r.id for r in await absences.reports_of(mother)] == [report.id]


async def test_reasons_notes_and_who_collects_are_sealed_in_the_database_and_never_logged(database_url, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, hanako, _, mother, _ = await _family()
    details = Details(ReportKind.EARLY, MONDAY, MONDAY, ReportReason.BEREAVEMENT, time(12), NOTE, COLLECTOR)
    [report] = await absences.record_reports([hanako], details, _by(mother), now=EARLY_MONDAY)
    await absences.change_report(
        report.id,
        Details(ReportKind.ABSENT, MONDAY, MONDAY, ReportReason.ILLNESS, note=NOTE),
        _by(mother),
        now=EARLY_MONDAY,
    )

    client = connection()
    raw = repr(await client.execute_query_dict("SELECT reason, note, collector FROM absence_report"))
    raw += repr(await client.execute_query_dict("SELECT details, reason FROM audit_entry"))
    raw += repr(await client.execute_query_dict("SELECT payload FROM delivery"))
    for secret in (NOTE, COLLECTOR, "illness", "bereavement"):
        assert secret not in raw and secret not in caplog.text
    assert (await AbsenceReport.get(id=report.id)).note == NOTE  # sealed, not lost


async def test_confirmations_are_not_held_by_quiet_hours(database_url) -> None:
    _, hanako, _, mother, _ = await _family()
    await Guardian.filter(id=mother.id).update(quiet_start=time(0), quiet_end=time(23, 59))
    await _tap(hanako, mother, ReportKind.ABSENT, ReportReason.ILLNESS)
    assert {d.channel for d in await _confirmations()} == {Channel.EMAIL} and len(await _confirmations()) == 3


async def test_two_taps_at_once_record_one_report(database_url) -> None:
    _, hanako, _, mother, _ = await _family()

    first, second = await asyncio.gather(_tap(hanako, mother), _tap(hanako, mother))

    assert first.id == second.id and await AbsenceReport.all().count() == 1
    assert len(await _confirmations()) == 3


async def test_days_that_are_over_stay_as_reported_but_the_end_of_an_absence_can_move(database_url) -> None:
    _, hanako, _, mother, _ = await _family()
    week = Details(ReportKind.ABSENT, MONDAY, MONDAY + timedelta(days=4), ReportReason.ILLNESS)
    [report] = await absences.record_reports([hanako], week, _by(mother), now=EARLY_MONDAY)
    wednesday = EARLY_MONDAY + timedelta(days=2)

    shorter = Details(ReportKind.ABSENT, MONDAY, MONDAY + timedelta(days=2), ReportReason.ILLNESS)
    assert (await absences.change_report(report.id, shorter, _by(mother), now=wednesday)).last_day == date(2026, 12, 23)
    with pytest.raises(UserError) as moved:
        later_start = Details(ReportKind.ABSENT, date(2026, 12, 23), date(2026, 12, 23), ReportReason.ILLNESS)
        await absences.change_report(report.id, later_start, _by(mother), now=wednesday)
    assert "最終日" in moved.value.message.translate(Language.JA)
    with pytest.raises(UserError):
        await absences.withdraw_report(report.id, _by(mother), now=wednesday)
    assert (await AbsenceReport.get(id=report.id)).first_day == MONDAY


async def test_the_same_lateness_with_another_time_is_news_not_a_double_tap(database_url) -> None:
    _, hanako, _, mother, _ = await _family()
    first = await _tap(hanako, mother, ReportKind.LATE, ReportReason.HOSPITAL, at_time=time(10))
    second = await _tap(hanako, mother, ReportKind.LATE, ReportReason.HOSPITAL, at_time=time(11))
    assert first.id != second.id and second.at_time == time(11)
