"""The one-tap answers to a "not seen" notice: the link shows the question and records nothing until
a button is pressed; an answer is recorded once, lands as a report or a mark, and is shown again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import calendar_entries, school_calendar, zones
from core.addresses import add_verified_address
from core.identifiers import new_token
from core.models import (
    AbsenceReport,
    AttendanceCheck,
    AttendanceMark,
    CalendarDayKind,
    Channel,
    CheckAnswerLink,
    CheckKind,
    Delivery,
    Language,
    NoticeKind,
    ReportKind,
    ReportVia,
)
from tests.one_language import assert_one_language
from tests.portal.conftest import Family


async def answer_link(family: Family, *, days_ago: int = 0) -> str:
    """A "not seen" check of today (a school day, made one if need be) and its answer link."""
    today = zones.today(family.site)
    if not (await school_calendar.school_day(family.site, today)).school:
        entry = calendar_entries.checked(today, None, CalendarDayKind.SCHOOL, "授業日")
        await calendar_entries.add_entries(family.site, [entry], actor="test")
    check = await AttendanceCheck.create(
        pupil_id=family.pupil.id,
        site_id=family.site.id,
        day=today - timedelta(days=days_ago),
        kind=CheckKind.ARRIVAL,
        at=datetime.now(UTC),
    )
    token = new_token()
    await CheckAnswerLink.create(token=token, check_id=check.id, guardian_id=family.guardian.id)
    return token


async def test_the_link_asks_without_recording_and_an_absence_lands_as_a_report_once(new_browser, family) -> None:
    token = await answer_link(family)
    browser = new_browser()  # not logged in: the link is the credential

    asked = await browser.get(f"/attendance/answer/{token}")
    assert asked.status_code == 200 and "花子さんは登校していますか" in asked.text
    for button in ("今日は欠席です", "遅刻します", "登校しています（タグ忘れ）"):
        assert button in asked.text
    assert await AbsenceReport.all().count() == 0 and not await AttendanceMark.exists()

    answered = await browser.post(f"/attendance/answer/{token}", {"answer": "absent", "reason": "illness"})
    assert answered.status_code == 200 and "回答済み：今日は欠席" in answered.text
    again = await browser.post(f"/attendance/answer/{token}", {"answer": "at_school"})
    assert "回答済み：今日は欠席" in again.text and "タグ忘れ）</button>" not in again.text

    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert (report.kind, report.via, report.guardian_id) == (ReportKind.ABSENT, ReportVia.ANSWER, family.guardian.id)
    assert not await AttendanceMark.exists()
    assert (await CheckAnswerLink.get(token=token)).answered_at is not None
    assert "回答済み" in (await new_browser().get(f"/attendance/answer/{token}")).text


async def test_coming_late_asks_the_time_and_the_family_is_told(new_browser, family) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    token = await answer_link(family)
    browser = new_browser()
    await browser.get(f"/attendance/answer/{token}")

    refused = await browser.post(f"/attendance/answer/{token}", {"answer": "late"})
    assert refused.status_code == 400 and "登校する時刻" in refused.text
    answered = await browser.post(f"/attendance/answer/{token}", {"answer": "late", "at_time": "10:15"})

    assert answered.status_code == 200 and "10:15" in answered.text
    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert report.kind is ReportKind.LATE and report.at_time.strftime("%H:%M") == "10:15"
    assert await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT).exists()


async def test_at_school_with_the_tag_forgotten_is_a_mark_by_the_guardian(new_browser, family) -> None:
    token = await answer_link(family)
    browser = new_browser()
    await browser.get(f"/attendance/answer/{token}")

    answered = await browser.post(f"/attendance/answer/{token}", {"answer": "at_school"})

    assert answered.status_code == 200 and "回答済み：登校しています" in answered.text
    mark = await AttendanceMark.get(pupil_id=family.pupil.id)
    assert (mark.guardian_id, mark.marked_by_id, mark.day) == (family.guardian.id, None, zones.today(family.site))
    assert await AbsenceReport.all().count() == 0


@pytest.mark.parametrize("days_ago", [None, 1])
async def test_an_unknown_or_expired_link_is_a_clear_page(new_browser, family, days_ago) -> None:
    token = await answer_link(family, days_ago=days_ago) if days_ago else "no-such-token"
    browser = new_browser()
    page = await browser.get(f"/attendance/answer/{token}")
    assert page.status_code == 404 and "期限が切れています" in page.text
    await browser.get("/login")
    refused = await browser.post(f"/attendance/answer/{token}", {"answer": "absent"})
    assert refused.status_code == 404 and await AbsenceReport.all().count() == 0


@pytest.mark.parametrize("language", [Language.EN, Language.ZH_HANS], ids=str)
async def test_the_answer_page_is_in_the_readers_language(new_browser, family, language) -> None:
    token = await answer_link(family)
    browser = new_browser()
    await browser.post("/language", {"to": language.value, "next": "/"})
    page = await browser.get(f"/attendance/answer/{token}")
    assert_one_language(page.text, language, names=["花子", "みどり小学校"])
