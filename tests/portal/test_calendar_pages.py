"""The school calendar's pages: an administrator keeps a school's days off and extra school days
(by hand, removed after a question, imported from a CSV); staff and guardians see the weeks to come."""

from __future__ import annotations

import re
from datetime import date, timedelta

import jpholiday
import pytest

from core import zones
from core.models import AuditEntry, CalendarDayKind, CalendarEntry, Language, StaffRole
from core.passwords import Passwords
from tests.factories import make_site
from tests.one_language import assert_one_language
from tests.portal.axe import axe_violations
from tests.portal.conftest import log_in_guardian, log_in_staff, staff_account
from tests.portal.test_guardian_browser_walk import VIEWPORTS
from tests.portal.test_guardian_browser_walk import _log_in as log_in_in_a_browser


def _next_weekday(start: date, *, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7 or 7)


def _ordinary_weekday(start: date) -> date:
    day = start + timedelta(days=3)
    while day.weekday() >= 5 or jpholiday.is_holiday(day):
        day += timedelta(days=1)
    return day


async def test_an_administrator_adds_imports_and_removes_days(new_browser, passwords: Passwords, family) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    site = family.site
    today = zones.today(site)
    first = _ordinary_weekday(today)

    menu = await browser.get("/staff")
    assert '<a href="/admin/calendar">学校カレンダー</a>' in menu.text
    page = await browser.get(f"/admin/calendar?site={site.id}")
    assert page.status_code == 200 and "予定はありません" in page.text

    wrong = await browser.post(
        f"/admin/calendar/{site.id}",
        {
            "first_day": first.isoformat(),
            "last_day": (first - timedelta(days=1)).isoformat(),
            "kind": "off",
            "name": "開校記念日",
        },
    )
    assert wrong.status_code == 400 and "最終日が初日より前です" in wrong.text
    assert 'value="開校記念日"' in wrong.text  # the form is redrawn as typed
    assert await CalendarEntry.all().count() == 0

    added = await browser.post(
        f"/admin/calendar/{site.id}", {"first_day": f"{first:%Y/%m/%d}", "kind": "off", "name": "開校記念日"}
    )
    assert added.status_code == 303
    shown = await browser.get(added.headers["location"])
    assert "追加しました" in shown.text and "開校記念日" in shown.text
    entry = await CalendarEntry.get(site_id=site.id)
    assert (entry.first_day, entry.last_day, entry.kind) == (first, first, CalendarDayKind.OFF)

    question = await browser.get(f"/admin/calendar/{site.id}/remove/{entry.id}")
    assert question.status_code == 200 and "開校記念日" in question.text
    assert await CalendarEntry.all().count() == 1  # asking removes nothing
    action = re.search(r'<form method="post" action="(/admin/[^"]+)"', question.text)
    assert action and action.group(1) == f"/admin/calendar/{site.id}/remove/{entry.id}"
    gone = await browser.post(action.group(1))
    assert gone.status_code == 303 and await CalendarEntry.all().count() == 0
    assert await AuditEntry.filter(action="calendar.remove").count() == 1

    saturday = _next_weekday(today, weekday=5)
    bad = f"開始日,終了日,種別,名称\n{first:%Y/%m/%d},{first + timedelta(days=2):%Y/%m/%d},休み,秋休み\n2026/13/1,,休み,変な日\n"
    await browser.get(f"/admin/calendar?site={site.id}")
    refused = await browser.client.post(
        f"/admin/calendar/{site.id}/import",
        data={"csrf": await browser.csrf()},
        files={"calendar_file": ("calendar.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 400 and "3行目" in refused.text and "2026/13/1" in refused.text
    assert await CalendarEntry.all().count() == 0  # all or nothing

    good = f"開始日,終了日,種別,名称\n{first:%Y/%m/%d},{first + timedelta(days=2):%Y/%m/%d},休み,秋休み\n{saturday:%Y/%m/%d},,授業,土曜授業\n"
    imported = await browser.client.post(
        f"/admin/calendar/{site.id}/import",
        data={"csrf": await browser.csrf()},
        files={"calendar_file": ("calendar.csv", good.encode(), "text/csv")},
    )
    assert imported.status_code == 200 and "秋休み" in imported.text and "土曜授業" in imported.text
    assert await CalendarEntry.filter(site_id=site.id).count() == 2


def _holiday_within(today: date, weeks: int = 8) -> tuple[date, str]:
    return next(
        (day, name)
        for day, name in jpholiday.between(today, today + timedelta(weeks=weeks, days=-1))
        if day.weekday() < 5
    )


async def test_a_guardian_sees_holidays_and_the_schools_own_days_in_their_language(new_browser, family) -> None:
    site = family.site
    today = zones.today(site)
    holiday, holiday_name = _holiday_within(today)
    own = _ordinary_weekday(today)
    saturday = _next_weekday(today, weekday=5)
    await CalendarEntry.create(
        site_id=site.id, first_day=own, last_day=own, kind=CalendarDayKind.OFF, name="開校記念日"
    )
    await CalendarEntry.create(
        site_id=site.id, first_day=saturday, last_day=saturday, kind=CalendarDayKind.SCHOOL, name="土曜授業"
    )
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    home = await browser.get("/home")
    assert '<a href="/calendar">学校カレンダー</a>' in home.text
    names = [site.name, holiday_name, "開校記念日", "土曜授業"]
    expected = {
        Language.JA: ("学校カレンダー", "休み", "授業日"),
        Language.EN: ("School calendar", "No school", "School day"),
        Language.PT_BR: ("Calendário escolar", "Sem aula", "Dia de aula"),
    }
    for language, (title, off, school) in expected.items():
        family.guardian.language = language
        await family.guardian.save(update_fields=["language"])
        page = await browser.get("/calendar")
        assert page.status_code == 200
        assert title in page.text and off in page.text and school in page.text
        assert holiday_name in page.text and "開校記念日" in page.text and "土曜授業" in page.text
        assert f"{holiday.day}" in page.text
        assert_one_language(page.text, language, names=names)


async def test_staff_see_their_schools_calendar_and_not_anothers(new_browser, passwords: Passwords, family) -> None:
    other = await make_site("ひかり小学校")
    own = _ordinary_weekday(zones.today(family.site))
    await CalendarEntry.create(
        site_id=family.site.id, first_day=own, last_day=own, kind=CalendarDayKind.OFF, name="開校記念日"
    )
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)

    page = await browser.get("/staff/calendar")
    assert page.status_code == 200 and "開校記念日" in page.text and family.site.name in page.text
    assert (await browser.get(f"/staff/calendar?site={other.id}")).status_code == 404


@pytest.mark.slow
async def test_the_guardians_calendar_on_a_phone_has_no_axe_violation(server: str, chromium, family) -> None:
    today = zones.today(family.site)
    own = _ordinary_weekday(today)
    await CalendarEntry.create(
        site_id=family.site.id, first_day=own, last_day=own, kind=CalendarDayKind.OFF, name="開校記念日"
    )
    context = await chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, locale="ja-JP")
    page = await context.new_page()
    await log_in_in_a_browser(page, server, family)
    await page.goto(f"{server}/calendar")
    assert "開校記念日" in await page.content()
    assert await axe_violations(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    await context.close()
