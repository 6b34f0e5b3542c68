"""The class board: staff see, for their school and a day, who is at school, reported, not seen or gone home."""

from __future__ import annotations

import re

from core import zones
from core.models import AttendanceMark, AuditEntry, Direction, Language, ReportKind, StaffRole
from core.passwords import Passwords
from tests.attendance import at, pass_gate, report
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_staff, staff_account
from tests.sql_counter import counting_statements


def _row(html: str, pupil_id: int) -> str:
    found = re.search(rf'<tr id="p{pupil_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"pupil {pupil_id} is not on the board"
    return found.group(1)


async def _school_day(passwords: Passwords):
    site = await make_site()
    gate, _key = await make_gate(site)
    today = zones.today(site)
    hanako = await make_pupil(site, "山田 花子", tag="T-1")
    taro = await make_pupil(site, "佐藤 太郎", tag="T-2")
    jiro = await make_pupil(site, "鈴木 次郎", tag="T-3")
    yuki = await make_pupil(site, "田中 雪", tag="T-4")
    await make_pupil(site, "高橋 無札")  # no IC tag: not on the board
    mother = await make_guardian("佐藤 恵子", pupils=[taro])
    await pass_gate(gate, hanako, at(today, 7, 58))
    await pass_gate(gate, yuki, at(today, 7, 50))
    await pass_gate(gate, yuki, at(today, 15, 10), Direction.DEPARTURE)
    await report(taro, ReportKind.ABSENT, today, guardian_id=mother.id)
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [site.name])
    return site, teacher, hanako, taro, jiro, yuki


async def test_the_board_shows_each_pupil_and_counts(new_browser, passwords: Passwords) -> None:
    site, teacher, hanako, taro, jiro, yuki = await _school_day(passwords)
    browser = new_browser()
    await log_in_staff(browser, teacher)

    menu = await browser.get("/staff")
    assert '<a href="/staff/board">出欠ボード</a>' in menu.text
    page = await browser.get(f"/staff/board?site={site.id}")
    assert page.status_code == 200
    assert "登校" in _row(page.text, hanako.id) and "7:58" in _row(page.text, hanako.id)
    assert "欠席" in _row(page.text, taro.id) and "体調不良" in _row(page.text, taro.id)
    assert "佐藤 恵子" in _row(page.text, taro.id)  # who reported
    assert "未確認" in _row(page.text, jiro.id)
    assert "下校" in _row(page.text, yuki.id) and "15:10" in _row(page.text, yuki.id)
    assert "高橋" not in page.text
    totals = dict(re.findall(r'<div id="total-(\w+)"><strong>(\d+)</strong>', page.text))
    assert totals == {"left": "1", "present": "1", "absent": "1", "late": "0", "early": "0", "unseen": "1"}
    assert_one_language(
        page.text, Language.JA, names=["山田 花子", "佐藤 太郎", "鈴木 次郎", "田中 雪", "佐藤 恵子", site.name]
    )

    unseen = await browser.get(f"/staff/board?site={site.id}&show=unseen")
    assert f'id="p{jiro.id}"' in unseen.text and f'id="p{hanako.id}"' not in unseen.text
    reports = await browser.get(f"/staff/board?site={site.id}&show=reports")
    assert f'id="p{taro.id}"' in reports.text and f'id="p{jiro.id}"' not in reports.text


async def test_staff_mark_a_pupil_present_by_hand_once_and_audited(new_browser, passwords: Passwords) -> None:
    site, teacher, _hanako, taro, jiro, _yuki = await _school_day(passwords)
    browser = new_browser()
    await log_in_staff(browser, teacher)
    today = zones.today(site).isoformat()

    for _ in range(2):  # a double tap records once
        answer = await browser.post("/staff/board/mark", {"pupil": str(jiro.id), "site": str(site.id), "day": today})
        assert answer.status_code == 303
    page = await browser.get(answer.headers["location"])
    assert "登校" in _row(page.text, jiro.id) and "タグ忘れ" in _row(page.text, jiro.id)
    assert await AttendanceMark.filter(pupil_id=jiro.id).count() == 1
    mother = await make_guardian("鈴木 母", pupils=[taro])
    await AttendanceMark.create(pupil=taro, day=zones.today(site), guardian=mother)  # her one-tap answer
    again = await browser.get(answer.headers["location"])
    assert "登校" in _row(again.text, taro.id) and "保護者より: 登校しています（タグ忘れ）" in _row(again.text, taro.id)
    assert await AuditEntry.filter(action="attendance.mark", target=f"pupil:{jiro.id}").count() == 1


async def test_staff_see_only_their_own_schools(new_browser, passwords: Passwords) -> None:
    site, _teacher, _hanako, _taro, jiro, _yuki = await _school_day(passwords)
    other, third = await make_site("ひかり小学校"), await make_site("そら小学校")
    stranger = await staff_account(passwords, "other", StaffRole.STAFF, [other.name, third.name])
    browser = new_browser()
    await log_in_staff(browser, stranger)

    assert (await browser.get(f"/staff/board?site={site.id}")).status_code == 404
    choices = await browser.get("/staff/board")  # no school chosen: her own schools to choose from
    assert choices.status_code == 200 and f'href="/staff/board?site={other.id}"' in choices.text
    assert f'href="/staff/board?site={third.id}"' in choices.text
    assert f"site={site.id}" not in choices.text
    refused = await browser.post(
        "/staff/board/mark", {"pupil": str(jiro.id), "site": str(site.id), "day": zones.today(site).isoformat()}
    )
    assert refused.status_code == 404 and not await AttendanceMark.exists()


async def test_the_board_in_english_and_reloading_only_when_asked(new_browser, passwords: Passwords) -> None:
    site, teacher, hanako, *_ = await _school_day(passwords)
    teacher.language = Language.EN
    await teacher.save()
    browser = new_browser()
    await log_in_staff(browser, teacher)

    page = await browser.get(f"/staff/board?site={site.id}")
    assert "Refresh" not in page.headers and "At school" in _row(page.text, hanako.id)
    assert_one_language(
        page.text, Language.EN, names=["山田 花子", "佐藤 太郎", "鈴木 次郎", "田中 雪", "佐藤 恵子", site.name]
    )
    live = await browser.get(f"/staff/board?site={site.id}&refresh=60")
    assert live.headers["Refresh"] == "60"


async def test_a_large_board_takes_a_few_queries(new_browser, passwords: Passwords) -> None:
    site, teacher, *_ = await _school_day(passwords)
    for n in range(30):
        await make_pupil(site, f"生徒 {n}", tag=f"X-{n}")
    browser = new_browser()
    await log_in_staff(browser, teacher)

    with counting_statements() as counted:
        page = await browser.get(f"/staff/board?site={site.id}")
    assert page.status_code == 200 and page.text.count('<tr id="p') == 34
    selects = [q for q in counted.queries if q.upper().startswith("SELECT")]
    assert len(selects) <= 10, selects  # 8 today: session, account, schools, and one per kind of row
