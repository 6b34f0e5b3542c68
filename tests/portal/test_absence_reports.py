"""A guardian reports absence or lateness on the portal (form, confirmation, list, change,
withdrawal), every refusal a message on the redrawn form; staff record a report taken by phone."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from core import school_calendar, zones
from core.addresses import add_verified_address
from core.delivery.compose import payload_context
from core.delivery.render import render
from core.models import (
    AbsenceReport,
    AuditEntry,
    Channel,
    Delivery,
    Language,
    NoticeKind,
    ReportKind,
    ReportVia,
    StaffRole,
)
from core.passwords import Passwords
from tests.factories import make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.axe import axe_violations
from tests.portal.conftest import GUARDIAN_PASSWORD, Family, log_in_guardian, log_in_staff, staff_account
from tests.portal.phone import phone, snap
from tests.portal.test_answers import answer_link


async def _next_school_day(family: Family) -> date:
    day = zones.today(family.site) + timedelta(days=1)
    while not (await school_calendar.school_day(family.site, day)).school:
        day += timedelta(days=1)
    return day


def _next_saturday(after: date) -> date:
    return after + timedelta(days=(5 - after.weekday()) % 7 or 7)


def _form(pupil, day: date, **more) -> dict:
    return {"pupil": str(pupil if isinstance(pupil, str) else pupil.id), "kind": "absent",
            "first_day": day.isoformat(), "reason": "illness", "note": "", **more}  # fmt: skip


async def _logged_in(new_browser, family: Family, language: Language = Language.JA):
    family.guardian.language = language
    await family.guardian.save(update_fields=["language"])
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    return browser


async def test_a_guardian_reports_an_absence_checks_it_then_sends_it_and_the_family_is_told(
    new_browser, family
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    day = await _next_school_day(family)
    browser = await _logged_in(new_browser, family)

    form = await browser.get("/absences")
    assert form.status_code == 200 and "欠席" in form.text and "体調不良" in form.text
    check = await browser.post("/absences", {**_form(family.pupil, day), "note": "熱が38度あります", "step": "check"})
    assert check.status_code == 200 and "連絡の確認" in check.text and "熱が38度あります" in check.text
    assert await AbsenceReport.all().count() == 0  # the confirmation step records nothing

    sent = await browser.post("/absences", {**_form(family.pupil, day), "note": "熱が38度あります", "step": "send"})
    assert sent.status_code == 303 and sent.headers["location"] == "/absences?done=recorded"
    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert (report.kind, report.first_day, report.via, report.guardian_id) == (
        ReportKind.ABSENT, day, ReportVia.PORTAL, family.guardian.id,
    )  # fmt: skip
    listing = await browser.get("/absences?done=recorded")
    assert "学校に連絡しました" in listing.text and "熱が38度あります" in listing.text and "取り消す" in listing.text
    assert await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT, guardian_id=family.guardian.id).count() == 1


async def test_both_children_are_reported_in_one_step(new_browser, family) -> None:
    brother = await make_pupil(family.site, "山田 太郎")
    await family.guardian.pupils.add(brother)
    day = await _next_school_day(family)
    browser = await _logged_in(new_browser, family)
    assert "2人とも" in (await browser.get("/absences")).text

    sent = await browser.post("/absences", {**_form("all", day), "step": "send"})

    assert sent.status_code == 303
    assert {r.pupil_id for r in await AbsenceReport.all()} == {family.pupil.id, brother.id}


@pytest.mark.parametrize(
    ("change", "japanese", "english"),
    [
        ({"first_day": "2020-04-01"}, "過ぎています", "is over"),
        ({"first_day": "saturday"}, "日付を選んで", "Choose the day"),
        ({"kind": "late"}, "登校する時刻", "when your child will arrive"),
        ({"kind": "early", "at_time": "13:00"}, "お迎え", "who will collect"),
        ({"at_time": "25:99", "kind": "late"}, "時刻は", "hours and minutes"),
        ({"reason": "boredom"}, "選択肢", "Choose one of the options"),
    ],
)
async def test_a_refused_report_says_why_on_the_redrawn_form_in_the_guardians_language(
    new_browser, family, change, japanese, english
) -> None:
    day = await _next_school_day(family)
    for language, expected in ((Language.JA, japanese), (Language.EN, english)):
        browser = await _logged_in(new_browser, family, language)
        refused = await browser.post("/absences", {**_form(family.pupil, day), **change, "step": "check"})
        assert refused.status_code == 400 and expected in refused.text, refused.text
        assert 'name="first_day"' in refused.text and 'role="alert"' in refused.text
    assert await AbsenceReport.all().count() == 0


async def test_a_day_without_school_is_refused_with_its_reason(new_browser, family) -> None:
    saturday = _next_saturday(zones.today(family.site))
    browser = await _logged_in(new_browser, family)
    refused = await browser.post("/absences", {**_form(family.pupil, saturday), "step": "send"})
    assert refused.status_code == 400 and "登校日ではありません" in refused.text and "週末" in refused.text


async def test_a_pupil_not_the_guardians_is_a_404_page(new_browser, family) -> None:
    stranger = await make_pupil(await make_site("ひかり小学校"), "他人 次郎")
    browser = await _logged_in(new_browser, family)
    refused = await browser.post("/absences", {**_form(stranger, await _next_school_day(family)), "step": "send"})
    assert refused.status_code == 404 and await AbsenceReport.all().count() == 0


async def test_a_report_is_changed_then_withdrawn_from_the_list(new_browser, family) -> None:
    day = await _next_school_day(family)
    browser = await _logged_in(new_browser, family)
    await browser.post("/absences", {**_form(family.pupil, day), "step": "send"})
    report = await AbsenceReport.get(pupil_id=family.pupil.id)

    page = await browser.get(f"/absences/{report.id}/change")
    assert page.status_code == 200 and f'value="{day.isoformat()}"' in page.text
    changed = await browser.post(
        f"/absences/{report.id}/change", {**_form(family.pupil, day), "kind": "late", "at_time": "10:30"}
    )
    assert changed.status_code == 303
    assert (await AbsenceReport.get(id=report.id)).kind is ReportKind.LATE
    await browser.get("/absences")
    withdrawn = await browser.post(f"/absences/{report.id}/withdraw")
    assert withdrawn.status_code == 303
    assert "取り消し済み" in (await browser.get("/absences")).text
    actions = await AuditEntry.filter(target=f"absence_report:{report.id}").values_list("action", flat=True)
    assert list(actions) == ["absence.recorded", "absence.changed", "absence.withdrawn"]


async def test_another_familys_report_cannot_be_changed_or_withdrawn(new_browser, family, passwords) -> None:
    from tests.portal.conftest import guardian_with_password

    day = await _next_school_day(family)
    browser = await _logged_in(new_browser, family)
    await browser.post("/absences", {**_form(family.pupil, day), "step": "send"})
    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    other = await guardian_with_password(passwords, pupils=[await make_pupil(family.site, "他人 次郎")], name="他人")
    stranger = new_browser()
    await log_in_guardian(stranger, other)

    assert (await stranger.get(f"/absences/{report.id}/change")).status_code == 404
    assert (await stranger.post(f"/absences/{report.id}/withdraw")).status_code == 404
    assert (await AbsenceReport.get(id=report.id)).withdrawn_at is None


@pytest.mark.parametrize("language", [Language.JA, Language.EN, Language.VI], ids=str)
async def test_the_report_pages_are_in_one_language(new_browser, family, language) -> None:
    day = await _next_school_day(family)
    browser = await _logged_in(new_browser, family, language)
    names = ["山田 花子", "みどり小学校"]
    assert_one_language((await browser.get("/absences")).text, language, names=names)
    check = await browser.post("/absences", {**_form(family.pupil, day), "step": "check"})
    assert_one_language(check.text, language, names=names)
    await browser.post("/absences", {**_form(family.pupil, day), "step": "send"})
    listing = await browser.get("/absences")
    assert_one_language(listing.text, language, names=names)
    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert_one_language((await browser.get(f"/absences/{report.id}/change")).text, language, names=names)


async def test_staff_record_a_call_for_a_pupil_of_their_school_and_are_shown_as_who_took_it(
    new_browser, family, passwords: Passwords
) -> None:
    clerk = await staff_account(passwords, "kato", StaffRole.STAFF, [family.site.name])
    stranger = await make_pupil(await make_site("ひかり小学校"), "他校 三郎")
    day = await _next_school_day(family)
    browser = new_browser()
    await log_in_staff(browser, clerk)

    page = await browser.get("/staff/phone-report")
    assert page.status_code == 200 and "山田 花子" in page.text and "他校 三郎" not in page.text
    form = {**_form(family.pupil, day), "kind": "early", "at_time": "13:30", "collector": "祖母"}
    assert (await browser.post("/staff/phone-report", form)).status_code == 303
    refused = await browser.post("/staff/phone-report", {**form, "pupil": str(stranger.id)})
    assert refused.status_code == 400 and "あなたの学校にその児童はいません" in refused.text

    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert (report.via, report.taken_by_id, report.guardian_id) == (ReportVia.STAFF, clerk.id, None)
    assert "kato" in (await browser.get("/staff/phone-report")).text
    assert await AuditEntry.filter(action="absence.recorded", actor="staff:kato").count() == 1
    guardian = await _logged_in(new_browser, family)
    assert "学校が電話で受付" in (await guardian.get("/absences")).text


async def test_the_form_is_reached_from_the_home_page_and_from_every_passage_notice(
    new_browser, family, settings
) -> None:
    browser = await _logged_in(new_browser, family)
    assert 'href="/absences"' in (await browser.get("/home")).text
    payload = {"pupil": "花子", "site": "みどり小学校", "direction": "departure", "zone": "Asia/Tokyo",
               "seen_at": "2026-12-21T06:10:00+00:00", "photo_token": None}  # fmt: skip
    for channel in (Channel.EMAIL, Channel.LINE, Channel.TELEGRAM):
        notice = render(
            NoticeKind.PASSAGE, channel, Language.JA, payload_context(NoticeKind.PASSAGE, payload, settings)
        )
        assert f"欠席・遅刻の連絡はこちら：{settings.portal.public_url.rstrip('/')}/absences" in notice.text


@pytest.mark.slow
async def test_a_phone_walk_from_home_to_a_sent_report_and_a_one_tap_answer(
    server: str, chromium, family, tmp_path: Path
) -> None:
    day = await _next_school_day(family)
    page = await phone(chromium)
    await page.goto(f"{server}/login?next=/home")
    await page.get_by_label("ログインID").fill(family.guardian.login_id)
    await page.get_by_label("パスワード").fill(GUARDIAN_PASSWORD)
    await page.get_by_role("button", name="ログイン").click()
    await page.get_by_role("link", name="欠席・遅刻の連絡").click()

    await expect(page.get_by_role("heading", name="欠席・遅刻の連絡")).to_be_visible()
    await page.get_by_role("radio", name="遅刻").check()
    await page.get_by_label("日付", exact=True).fill(day.isoformat())
    await page.get_by_label("時刻（遅刻：登校予定、早退：下校時刻）").fill("10:30")
    await page.get_by_role("radio", name="通院").check()
    await snap(page, tmp_path, "absence-form")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="次へ（内容の確認）").click()

    await expect(page.get_by_role("heading", name="連絡の確認")).to_be_visible()
    await snap(page, tmp_path, "absence-confirm")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="学校に送る").click()

    await expect(page.get_by_role("status")).to_have_text("学校に連絡しました。")
    await snap(page, tmp_path, "absence-list")
    assert await axe_violations(page) == []
    report = await AbsenceReport.get(pupil_id=family.pupil.id)
    assert report.kind is ReportKind.LATE and report.at_time.strftime("%H:%M") == "10:30"

    token = await answer_link(family)
    stranger = await phone(chromium)  # another phone, not logged in
    await stranger.goto(f"{server}/attendance/answer/{token}")
    await snap(stranger, tmp_path, "answer")
    assert await axe_violations(stranger) == []
    await stranger.get_by_role("button", name="登校しています（タグ忘れ）").click()
    await expect(stranger.get_by_role("status")).to_contain_text("回答済み")
