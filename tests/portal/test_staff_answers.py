"""A teacher follows a 安否確認 on the portal: the tally per class, the pupils behind each number,
who needs help first (with the family's addresses, for the school's own staff only), sending again
to the unanswered only, closing the question, the CSV and the printable view."""

from __future__ import annotations

import csv
import io
import re
from zoneinfo import ZoneInfo

from core import broadcasts
from core.models import BroadcastAnswer, BroadcastCategory, Language, StaffRole
from core.passwords import Passwords
from core.questions import written_question
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.delivery.test_tally import school_after_an_earthquake
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_staff, staff_account
from tests.portal.test_staff_broadcasts import _teacher

PUPILS = ["太郎", "花子", "次郎", "健", "美咲", "光"]
FAMILIES = ["佐藤 洋子", "伊藤 直樹", "加藤 明", "森 由美", "田中 光"]


def _cells(page: str, row_id: str) -> list[str]:
    row = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert row, row_id
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def _names(page: str, table: str) -> list[str]:
    found = re.search(rf'<table id="{table}"[^>]*>(.*?)</table>', page, re.S)
    assert found, table
    return re.findall(r'<tr id="pupil-\d+"><td>([^<]+)<br>', found.group(1))


async def _board(new_browser, passwords: Passwords):  # noqa: ANN001, ANN202
    admin = await staff_account(passwords, "kyoiku", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    return browser


async def test_the_status_page_tallies_each_class_and_every_number_lists_its_pupils(
    new_browser, passwords: Passwords, mail_settings, mail_sink, deliver
) -> None:
    broadcast_id, kids, _ = await school_after_an_earthquake(mail_sink, deliver)
    site = kids["太郎"].school_id
    browser = await _teacher(new_browser, passwords, await kids["太郎"].school)
    status = await browser.get(f"/staff/broadcasts/{broadcast_id}")
    assert status.status_code == 200
    # pupils, delivered, 無事です, けがをしています, 迎えが必要です, 連絡がとれません, unanswered, not reachable
    assert _cells(status.text, f"tally-{site}-3-1") == ["2", "1", "1", "0", "0", "0", "1", "1"]
    assert _cells(status.text, f"tally-{site}-3-2") == ["3", "2", "0", "0", "1", "0", "2", "1"]
    assert _cells(status.text, f"tally-{site}") == ["5", "3", "1", "0", "1", "0", "3", "2"]
    assert '<th scope="col" class="choice needs-help"><span>迎えが必要です</span>' in status.text
    # needs help first, with the family's address: she is staff of 次郎's school
    assert status.text.index('id="needs-help"') < status.text.index('id="not-reached"')
    assert _names(status.text, "needs-help") == ["次郎"]
    assert "yoko@example.jp" in _cells(status.text, f"pupil-{kids['次郎'].id}")[3]
    assert_one_language(status.text, Language.JA, names=[*PUPILS, *FAMILIES, "みどり小学校", "地震発生"])

    unanswered = re.search(
        rf'href="(/staff/broadcasts/{broadcast_id}/pupils\?[^"]*)">2</a></td>\s*<td class="unreachable"', status.text
    )
    assert unanswered
    listed = await browser.get(unanswered.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200 and _names(listed.text, "pupils") == ["健", "美咲"]
    assert "yumi@example.jp" in listed.text and "連絡先の登録なし" in listed.text  # 美咲's family; 健's has none
    for show, names in (("help", ["次郎"]), ("0", ["太郎"]), ("unreachable", ["花子", "健"]), ("all", PUPILS[:5])):
        page = await browser.get(f"/staff/broadcasts/{broadcast_id}/pupils?show={show}&school={site}")
        assert _names(page.text, "pupils") == names, show
    every = await browser.get(f"/staff/broadcasts/{broadcast_id}/pupils?show=unanswered&refresh=30")
    assert every.headers["refresh"] == "30"
    assert (await browser.get(f"/staff/broadcasts/{broadcast_id}/pupils?show=nonsense")).status_code == 200
    assert (await browser.get(f"/staff/broadcasts/{broadcast_id}/pupils?grade=x")).status_code == 400


async def test_only_the_schools_own_staff_see_the_addresses_of_those_who_need_help(
    new_browser, passwords: Passwords, mail_settings, mail_sink, deliver
) -> None:
    broadcast_id, kids, _ = await school_after_an_earthquake(mail_sink, deliver)
    board = await _board(new_browser, passwords)
    status = await board.get(f"/staff/broadcasts/{broadcast_id}")
    assert _names(status.text, "needs-help") == ["次郎"]
    assert "yoko@example.jp" not in status.text  # the board is not the school's staff
    other = await staff_account(passwords, "sakura", StaffRole.STAFF, ["さくら小学校"])
    stranger = new_browser()
    await log_in_staff(stranger, other)
    for path in ("", "/pupils?show=help", "/answers.csv", "/print"):
        assert (await stranger.get(f"/staff/broadcasts/{broadcast_id}{path}")).status_code == 404


async def test_sending_again_to_the_unanswered_and_closing_from_the_status_page(
    new_browser, passwords: Passwords, mail_settings, mail_sink, deliver
) -> None:
    broadcast_id, kids, families = await school_after_an_earthquake(mail_sink, deliver)
    browser = await _teacher(new_browser, passwords, await kids["太郎"].school)
    await browser.get(f"/staff/broadcasts/{broadcast_id}")
    before = mail_sink.per_recipient()
    resent = await browser.post(f"/staff/broadcasts/{broadcast_id}/resend-unanswered")
    assert resent.status_code == 303
    shown = await browser.get(resent.headers["location"])
    assert "2件を再送しました。" in shown.text and 'id="closed"' not in shown.text
    await deliver()
    assert mail_sink.per_recipient() - before == {"naoki@example.jp": 1, "yumi@example.jp": 1}

    closed = await browser.post(f"/staff/broadcasts/{broadcast_id}/close")
    page = await browser.get(closed.headers["location"])
    assert 'id="closed"' in page.text
    assert "resend-unanswered" not in page.text and f"/staff/broadcasts/{broadcast_id}/close" not in page.text
    refused = await browser.post(f"/staff/broadcasts/{broadcast_id}/resend-unanswered")
    assert refused.status_code == 409 and "質問は締め切られています" in refused.text
    await deliver()
    assert mail_sink.per_recipient() - before == {"naoki@example.jp": 1, "yumi@example.jp": 1}


async def test_the_csv_opens_in_excel_and_turns_no_cell_into_a_formula(
    new_browser, passwords: Passwords, mail_settings, mail_sink, deliver
) -> None:
    site, other = await make_site(), await make_site("さくら小学校")
    sly = await make_pupil(site, "=cmd|' /C calc'!A0")
    kind = await make_pupil(other, "光")
    mother = await make_guardian("山田 恵子", pupils=[sly], emails=["keiko@example.jp"])
    await make_guardian("田中 光", pupils=[kind], emails=["hikari@example.jp"])
    question = written_question(["無事です", "けがをしています"], [False, True], allows_note=True)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さまの様子をお知らせください。",
        question=question,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    await broadcasts.answer(draft.id, mother.id, 1, via="portal", note='=HYPERLINK("http://x")')
    answered = await BroadcastAnswer.get(broadcast_id=draft.id)

    board = await _board(new_browser, passwords)
    sheet = await board.get(f"/staff/broadcasts/{draft.id}/answers.csv")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert sheet.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "学校",
        "学年",
        "組",
        "児童",
        "回答",
        "支援が必要",
        "メモ",
        "回答日時",
        "回答者 (ログインID)",
        "回答方法",
    ]
    local = answered.answered_at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    assert rows[1:] == [
        [
            "みどり小学校",
            "3",
            "2",
            "'=cmd|' /C calc'!A0",
            "けがをしています",
            "はい",
            '\'=HYPERLINK("http://x")',
            local,
            mother.login_id,
            "ポータル",
        ],
        ["さくら小学校", "3", "2", "光", "", "", "", "", "", ""],
    ]
    printed = await board.get(f"/staff/broadcasts/{draft.id}/print")
    assert printed.status_code == 200 and "=cmd|' /C calc'!A0" in printed.text.replace("&#39;", "'")
    assert '<table id="tally"' in printed.text and "/pupils?" not in printed.text
