"""Which days a school has school: weekdays, Japan's holidays, its own days off and extra days, closures."""

from datetime import date, timedelta

import pytest

from core import calendar_entries, school_calendar, zones
from core.calendar_file import parse_calendar
from core.errors import UserError
from core.models import AuditEntry, BroadcastCategory, CalendarDayKind, Language, Pupil
from tests.factories import confirmed_broadcast, make_guardian, make_pupil, make_site

# December 2026: Mon 21st to Sun 27th; 2027: Mon 11 January is 成人の日
MONDAY = date(2026, 12, 21)


def shown(day: school_calendar.Day) -> tuple[bool, str]:
    reason = day.reason
    return day.school, reason.translate(Language.JA) if hasattr(reason, "translate") else (reason or "")


async def test_weekdays_are_school_days_and_weekends_and_national_holidays_are_not(database_url) -> None:
    site = await make_site()
    week = await school_calendar.calendar(site, MONDAY, MONDAY + timedelta(days=6))
    assert [day.school for day in week] == [True, True, True, True, True, False, False]
    assert shown(week[5]) == (False, "週末")
    holiday = await school_calendar.school_day(site, date(2027, 1, 11))
    assert shown(holiday) == (False, "成人の日")
    substitute = await school_calendar.school_day(site, date(2026, 5, 6))  # 憲法記念日 fell on a Sunday
    assert substitute.school is False


async def test_a_schools_days_off_and_its_extra_school_days(database_url) -> None:
    site, other = await make_site(), await make_site("ひかり小学校")
    winter = calendar_entries.checked(date(2026, 12, 24), date(2027, 1, 7), CalendarDayKind.OFF, "冬休み")
    saturday = calendar_entries.checked(date(2026, 12, 26), None, CalendarDayKind.SCHOOL, "土曜授業")
    assert await calendar_entries.add_entries(site, [winter, saturday], actor="staff:1") == (2, 0)
    assert await calendar_entries.add_entries(site, [winter], actor="staff:1") == (0, 1)

    days = {d.day: shown(d) for d in await school_calendar.calendar(site, MONDAY, date(2027, 1, 8))}
    assert days[date(2026, 12, 23)] == (True, "")
    assert days[date(2026, 12, 24)] == (False, "冬休み")
    assert days[date(2026, 12, 26)] == (True, "土曜授業")  # an extra day wins inside the holidays
    assert days[date(2027, 1, 8)] == (True, "")
    assert (await school_calendar.school_day(other, date(2026, 12, 24))).school  # the other school is open
    assert await AuditEntry.filter(action="calendar.add").count() == 1


async def test_a_closure_sends_home_only_the_pupils_in_its_scope_on_the_day_it_was_sent(database_url) -> None:
    site = await make_site()
    grade3 = await make_pupil(site, "山田 花子")
    grade5 = await make_pupil(site, "山田 太郎")
    await Pupil.filter(id=grade5.id).update(grade=5)
    await make_guardian(pupils=[grade3, grade5])
    today = zones.today(site)
    if not (await school_calendar.school_day(site, today)).school:
        await calendar_entries.add_entries(
            site, [calendar_entries.checked(today, None, CalendarDayKind.SCHOOL, "授業日")], actor="t"
        )
    assert await school_calendar.has_school(grade3, today)
    await confirmed_broadcast("みどり小学校:3", category=BroadcastCategory.CLOSURE, title="3年 学級閉鎖")
    await confirmed_broadcast("みどり小学校", category=BroadcastCategory.DISASTER, title="地震")
    assert not await school_calendar.has_school(grade3, today)
    assert await school_calendar.has_school(await Pupil.get(id=grade5.id), today)
    assert (
        await school_calendar.has_school(grade3, today + timedelta(days=7))
        == (await school_calendar.school_day(site, today + timedelta(days=7))).school
    )


@pytest.mark.parametrize(
    ("first", "last", "name", "told"),
    [
        (date(2026, 8, 31), date(2026, 7, 20), "夏休み", "最終日が初日より前です。"),
        (date(2026, 4, 1), date(2027, 4, 2), "一年", "1件で指定できるのは366日までです。"),
        (date(2026, 8, 1), None, "  ", "夏休み のように名前を付けてください。"),
    ],
)
def test_a_wrong_entry_is_refused_with_a_reason(first, last, name, told) -> None:
    with pytest.raises(UserError) as refused:
        calendar_entries.checked(first, last, CalendarDayKind.OFF, name)
    assert refused.value.message.translate(Language.JA) == told


def test_a_calendar_file_with_japanese_headers_in_cp932() -> None:
    text = "開始日,終了日,種別,名称\r\n2026/7/21,2026/8/31,休み,夏休み\r\n2026/10/3,,授業,土曜授業\r\n"
    parsed = parse_calendar(text.encode("cp932"))
    assert parsed.problems == []
    assert parsed.entries == [
        calendar_entries.NewEntry(date(2026, 7, 21), date(2026, 8, 31), CalendarDayKind.OFF, "夏休み"),
        calendar_entries.NewEntry(date(2026, 10, 3), date(2026, 10, 3), CalendarDayKind.SCHOOL, "土曜授業"),
    ]


def test_a_calendar_file_says_which_lines_are_wrong() -> None:
    text = "first_day,last_day,kind,name\n2026-07-21,2026-08-31,off,Summer\n2026-13-01,,off,x\n2026-10-03,,play,y\n"
    parsed = parse_calendar(text.encode())
    told = [(p.line, p.reason.translate(Language.EN)) for p in parsed.problems]
    assert told == [
        (3, "2026-13-01 is not a date like 2026/8/1."),
        (4, "The kind must be 休み (off) or 授業 (school), not play."),
    ]
