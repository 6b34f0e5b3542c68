"""The "not seen" checks: at a school's check time, exactly the pupils neither seen nor reported are
told to their families and listed to the staff, once, whatever restarts; the calendar, a down gate,
late reports and children's halls."""

from __future__ import annotations

import asyncio
import json
from datetime import date, time, timedelta

from core import buttons, calendar_entries, not_seen
from core.config import Settings
from core.delivery.compose import payload_context
from core.delivery.render import render
from core.models import (
    AttendanceCheck,
    AttendanceMark,
    Broadcast,
    BroadcastCategory,
    CalendarDayKind,
    Channel,
    CheckAnswerLink,
    CheckKind,
    ContactAddress,
    Delivery,
    Direction,
    Guardian,
    HallEnrolment,
    Language,
    NoticeKind,
    Priority,
    ReportKind,
    SiteKind,
)
from core.scheduler import JOBS, Scheduler
from tests.attendance import SCHOOL_DAY, at, pass_gate, report
from tests.factories import confirmed_broadcast, make_gate, make_guardian, make_pupil, make_site, make_site_staff
from tests.one_language import assert_one_language

CHECKS = [job for job in JOBS if job.name == "attendance checks"]


class School:
    """A school on a Tuesday morning: two pupils seen or excused, two not seen, one without a tag."""

    async def build(self) -> School:
        not_seen.forget()
        self.site = await make_site()
        self.gate, _key = await make_gate(self.site)
        self.staff = await make_site_staff(self.site, "sensei@school.example.jp")
        self.hanako = await make_pupil(self.site, "山田 花子", tag="T-1")  # arrives 07:58
        self.taro = await make_pupil(self.site, "佐藤 太郎", tag="T-2")  # reported absent
        self.jiro = await make_pupil(self.site, "鈴木 次郎", tag="T-3")  # not seen
        self.kenta = await make_pupil(self.site, "高橋 健太", tag="T-4")  # not seen
        self.marked = await make_pupil(self.site, "伊藤 舞", tag="T-5")  # marked by staff (tag forgotten)
        self.untagged = await make_pupil(self.site, "渡辺 無札")
        self.keiko = await make_guardian(
            "鈴木 恵子", pupils=[self.jiro], emails=["keiko@a.example.jp", "keiko@b.example.jp"]
        )
        # quiet hours hold passage notices, never these
        await Guardian.filter(id=self.keiko.id).update(quiet_start=time(8, 0), quiet_end=time(9, 0))
        self.quiet = await make_guardian("鈴木 一郎", pupils=[self.jiro], emails=["ichiro@example.jp"])
        await Guardian.filter(id=self.quiet.id).update(wants_attendance_alerts=False)
        self.ana = await make_guardian(
            "高橋 アナ", pupils=[self.kenta], emails=["ana@example.jp"], language=Language.PT_BR
        )
        await make_guardian("佐藤 母", pupils=[self.taro, self.hanako, self.marked], emails=["sato@example.jp"])
        await make_guardian("渡辺 父", pupils=[self.untagged], emails=["watanabe@example.jp"])
        await pass_gate(self.gate, self.hanako, at(SCHOOL_DAY, 7, 58))
        await report(self.taro, ReportKind.ABSENT, SCHOOL_DAY)
        await AttendanceMark.create(pupil=self.marked, day=SCHOOL_DAY)
        return self


async def _told() -> list[str]:
    """The guardians' addresses told that a pupil was not seen."""
    rows = await Delivery.filter(kind=NoticeKind.NOT_SEEN, address_id__isnull=False).order_by("id")
    addresses = {a.id: a.value for a in await ContactAddress.filter(id__in=[r.address_id for r in rows])}
    return sorted(addresses[r.address_id] for r in rows)


async def _staff_payloads() -> list[dict]:
    rows = await Delivery.filter(kind=NoticeKind.NOT_SEEN, staff_address_id__isnull=False).order_by("id")
    return [json.loads(row.payload) for row in rows]


async def test_at_the_check_time_exactly_the_unseen_pupils_families_and_the_staff_are_told_once(
    database_url, settings: Settings
) -> None:
    school = await School().build()

    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 39)) == 0
    assert await _told() == []
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41)) == 2

    assert await _told() == ["ana@example.jp", "keiko@a.example.jp", "keiko@b.example.jp"]
    checks = (
        await AttendanceCheck.filter(kind=CheckKind.ARRIVAL).order_by("pupil_id").values_list("pupil_id", flat=True)
    )
    assert checks == [school.jiro.id, school.kenta.id]
    assert await CheckAnswerLink.filter(guardian_id=school.keiko.id).count() == 1
    assert not await CheckAnswerLink.filter(guardian_id=school.quiet.id).exists()
    [listed] = await _staff_payloads()
    assert listed["count"] == 2 and [p["name"] for p in listed["pupils"]] == ["鈴木 次郎", "高橋 健太"]
    row = await Delivery.filter(kind=NoticeKind.NOT_SEEN, address_id__isnull=False).first()
    assert row.priority == Priority.TRANSACTIONAL and row.expires_at == at(SCHOOL_DAY, 8, 40) + timedelta(hours=4)

    # a restart (this process forgets, a new scheduler runs the job) and a second run tell nobody again
    not_seen.forget()
    checking = settings.model_copy(update={"attendance": settings.attendance.model_copy(update={"checks": True})})
    await Scheduler(checking, jobs=CHECKS, clock=lambda: at(SCHOOL_DAY, 8, 45)).run_once()
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 9, 0)) == 0
    assert len(await _told()) == 3 and len(await _staff_payloads()) == 1


async def test_the_notice_reads_in_each_guardians_language_with_its_answer_link(database_url, settings) -> None:
    school = await School().build()
    await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41))
    link = await CheckAnswerLink.get(guardian_id=school.ana.id)
    row = await Delivery.filter(guardian_id=school.ana.id, kind=NoticeKind.NOT_SEEN).first()
    context = payload_context(NoticeKind.NOT_SEEN, json.loads(row.payload), settings)

    japanese = render(NoticeKind.NOT_SEEN, Channel.EMAIL, Language.JA, context)
    assert "まだ登校が確認できていません" in japanese.text and "8:40" in japanese.text
    assert f"/attendance/answer/{link.token}" in japanese.text
    portuguese = render(NoticeKind.NOT_SEEN, Channel.EMAIL, Language.PT_BR, context)
    assert_one_language(portuguese.subject + "\n" + portuguese.text, Language.PT_BR, names=["健太", "みどり小学校"])
    telegram = render(NoticeKind.NOT_SEEN, Channel.TELEGRAM, Language.VI, context)
    *answers, button = telegram.actions  # the one-tap answers as postbacks, then the page
    assert [a.label for a in answers] == ["Hôm nay nghỉ học", "Sẽ đến muộn", "Ở trường (quên thẻ)"]
    assert [buttons.parse(a.postback or "") for a in answers] == [
        buttons.CheckAnswer(link.token, choice) for choice in ("absent", "late", "at_school")
    ]
    assert button.url.endswith(f"/attendance/answer/{link.token}")
    assert [a.url for a in japanese.actions] == [button.url]  # a mail has the page alone
    for language in Language:
        shown = render(NoticeKind.NOT_SEEN, Channel.LINE, language, context)
        assert_one_language(shown.subject + "\n" + shown.text, language, names=["健太", "みどり小学校"])
        assert len(shown.actions) == 4 and all(len(a.label) <= 20 for a in shown.actions)  # LINE's label limit


async def test_the_staff_list_names_the_pupils_and_links_the_board(database_url, settings) -> None:
    school = await School().build()
    await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41))
    row = await Delivery.get(kind=NoticeKind.NOT_SEEN, staff_address_id__isnull=False)
    context = payload_context(NoticeKind.NOT_SEEN, json.loads(row.payload), settings)

    japanese = render(NoticeKind.NOT_SEEN, Channel.EMAIL, Language.JA, context)
    assert japanese.subject == "【見守り・職員】未確認 2名: みどり小学校"
    assert "3年2組 鈴木 次郎" in japanese.text and "3年2組 高橋 健太" in japanese.text
    assert "佐藤" not in japanese.text and "山田" not in japanese.text
    [board] = japanese.actions
    assert board.label == "出欠ボード" and board.url.endswith(
        f"/staff/board?site={school.site.id}&day=2026-12-08&show=unseen"
    )
    english = render(NoticeKind.NOT_SEEN, Channel.EMAIL, Language.EN, context)
    assert english.subject == "[Mimamori staff] 2 pupils not seen: みどり小学校"
    assert_one_language(english.text, Language.EN, names=["鈴木 次郎", "高橋 健太", "みどり小学校"])


async def test_two_schedulers_at_once_tell_each_family_once(database_url, settings) -> None:
    await School().build()
    found = await asyncio.gather(
        not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41)), not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41))
    )
    assert sorted(found) == [0, 2]
    assert len(await _told()) == 3 and len(await _staff_payloads()) == 1
    assert await CheckAnswerLink.all().count() == 2


async def test_no_check_on_a_national_holiday_the_schools_own_day_off_or_a_closure(database_url, settings) -> None:
    school = await School().build()
    labour_thanksgiving = date(2026, 11, 23)  # a Monday, 勤労感謝の日
    assert await not_seen.run_checks(settings, at(labour_thanksgiving, 8, 41)) == 0

    await calendar_entries.add_entries(
        school.site, [calendar_entries.checked(SCHOOL_DAY, None, CalendarDayKind.OFF, "開校記念日")], actor="t"
    )
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41)) == 0

    wednesday = SCHOOL_DAY + timedelta(days=1)
    closure = await confirmed_broadcast("みどり小学校", category=BroadcastCategory.CLOSURE, title="臨時休校")
    await Broadcast.filter(id=closure).update(confirmed_at=at(wednesday, 6, 30))
    assert await not_seen.run_checks(settings, at(wednesday, 8, 41)) == 0
    assert await _told() == [] and not await AttendanceCheck.exists()


async def test_a_down_gate_holds_the_check_and_tells_the_staff_once(database_url, settings) -> None:
    school = await School().build()
    school.gate.down_since = at(SCHOOL_DAY, 7, 0)
    await school.gate.save()

    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41)) == 0
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 42)) == 0
    assert await _told() == [] and [p["event"] for p in await _staff_payloads()] == ["held"]

    school.gate.down_since = None  # back, and the passages it kept arrive
    await school.gate.save()
    await pass_gate(school.gate, school.kenta, at(SCHOOL_DAY, 8, 5))
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 9, 0)) == 1
    assert await _told() == ["keiko@a.example.jp", "keiko@b.example.jp"]


async def test_a_late_pupil_is_checked_again_after_the_expected_time(database_url, settings) -> None:
    school = await School().build()
    await report(school.jiro, ReportKind.LATE, SCHOOL_DAY, at_time=time(9, 30))
    await report(school.kenta, ReportKind.LATE, SCHOOL_DAY, at_time=time(9, 0))
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 8, 41)) == 0  # both reported late
    await pass_gate(school.gate, school.kenta, at(SCHOOL_DAY, 9, 10))

    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 9, 45)) == 0  # 09:30 + 30 minutes not yet
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 10, 1)) == 1
    assert await AttendanceCheck.filter(kind=CheckKind.LATE).values_list("pupil_id", flat=True) == [school.jiro.id]
    assert await _told() == ["keiko@a.example.jp", "keiko@b.example.jp"]
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 10, 30)) == 0


async def test_a_process_started_after_the_morning_still_makes_the_afternoons_late_check(
    database_url, settings
) -> None:
    school = await School().build()
    await report(school.jiro, ReportKind.LATE, SCHOOL_DAY, at_time=time(12, 30))

    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 13, 5)) == 1  # 08:40 + 4 hours is past: no arrival check
    assert await AttendanceCheck.filter(kind=CheckKind.LATE).values_list("pupil_id", flat=True) == [school.jiro.id]
    assert not await AttendanceCheck.filter(kind=CheckKind.ARRIVAL).exists()


async def test_a_pupil_who_left_school_and_never_reached_the_hall(database_url, settings) -> None:
    school = await School().build()
    hall = await make_site("みどり児童館", kind=SiteKind.HALL)
    hall_gate, _key = await make_gate(hall)
    await make_site_staff(hall, "hall@example.jp")
    await HallEnrolment.create(pupil=school.jiro, hall=hall, weekdays="12345")
    await HallEnrolment.create(pupil=school.kenta, hall=hall, weekdays="12345")
    await HallEnrolment.create(pupil=school.hanako, hall=hall, weekdays="6")  # not on Tuesdays
    for pupil in (school.jiro, school.kenta, school.hanako):
        await pass_gate(school.gate, pupil, at(SCHOOL_DAY, 8, 0))
        await pass_gate(school.gate, pupil, at(SCHOOL_DAY, 15, 0), Direction.DEPARTURE)
    await pass_gate(hall_gate, school.kenta, at(SCHOOL_DAY, 15, 12), Direction.PASSAGE)

    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 15, 25)) == 0
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 15, 31)) == 1
    check = await AttendanceCheck.get(kind=CheckKind.HALL)
    assert check.pupil_id == school.jiro.id and check.site_id == hall.id
    assert await _told() == ["keiko@a.example.jp", "keiko@b.example.jp"]
    [listed] = await _staff_payloads()
    assert listed["check"] == "hall" and listed["site"] == "みどり児童館"
    assert await not_seen.run_checks(settings, at(SCHOOL_DAY, 15, 40)) == 0


async def test_a_city_that_turns_the_checks_off_tells_nobody(database_url, settings) -> None:
    await School().build()
    assert not settings.attendance.checks  # [attendance] checks = false, as the tests run
    await Scheduler(settings, jobs=CHECKS, clock=lambda: at(SCHOOL_DAY, 8, 45)).run_once()
    assert await AttendanceCheck.all().count() == 0
    checking = settings.model_copy(update={"attendance": settings.attendance.model_copy(update={"checks": True})})
    await Scheduler(checking, jobs=CHECKS, clock=lambda: at(SCHOOL_DAY, 8, 45)).run_once()
    assert await AttendanceCheck.all().count() == 2
