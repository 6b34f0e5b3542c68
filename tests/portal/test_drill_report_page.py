"""The drill report a school files: each school's figures on one printable page, in the staff's
language and the school's time zone, reached from the drill's status page."""

from __future__ import annotations

import re

from core.models import Language, StaffAccount, StaffRole
from core.passwords import Passwords
from tests.drills import drill_run
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_staff, staff_account


def _cell(page: str, cell_id: str) -> str:
    found = re.search(rf'<td[^>]* id="{cell_id}">(.*?)</td>', page, re.S)
    assert found is not None, cell_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def _logged_in(new_browser, staff: StaffAccount):
    browser = new_browser()
    await log_in_staff(browser, staff)
    return browser


async def test_the_drill_report_shows_each_schools_figures_from_the_status_page(
    new_browser, passwords: Passwords, settings
) -> None:
    run = await drill_run(settings)
    admin = await staff_account(passwords, "kyoiku", StaffRole.ADMIN)
    browser = await _logged_in(new_browser, admin)

    status = await browser.get(f"/staff/broadcasts/{run.broadcast.id}")
    link = f'href="/staff/broadcasts/{run.broadcast.id}/drill-report">訓練報告</a>'
    assert status.status_code == 200 and link in status.text
    page = await browser.get(f"/staff/broadcasts/{run.broadcast.id}/drill-report")

    assert page.status_code == 200 and "<h1>訓練報告</h1>" in page.text
    assert page.text.index("あおば小学校") < page.text.index("みどり小学校")
    m = run.midori.id
    assert [_cell(page.text, f"{name}-{m}") for name in ("pupils", "families", "reached")] == ["4", "7", "4"]
    assert _cell(page.text, f"first-{m}") == "1分00秒 (10:01:00)"  # in Tokyo time
    assert _cell(page.text, f"last-{m}") == "10分00秒 (10:10:00)"
    assert _cell(page.text, f"p50-{m}") == "2分30秒 (10:02:30)"
    assert _cell(page.text, f"p90-{m}") == "10分00秒 (10:10:00)"
    assert _cell(page.text, f"unreachable-{m}") == (
        "2 (アドレスなし、または配信停止: 1、すべての配信が失敗: 1) 送信中: 1"
    )
    rates = re.search(rf'<table class="report rates" id="rates-{m}">(.*?)</table>', page.text, re.S)
    assert rates is not None
    cells = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", rates[1])]
    assert cells == [
        "5分後",
        "10分後",
        "30分後",
        "60分後",
        "現在まで",
        "1 / 4 (25%)",
        "2 / 4 (50%)",
        "3 / 4 (75%)",
        "3 / 4 (75%)",
        "3 / 4",
    ]
    assert_one_language(page.text, Language.JA, names=["避難訓練", "みどり小学校", "あおば小学校"])


async def test_the_report_is_in_english_for_english_staff_and_hidden_from_other_schools(
    new_browser, passwords: Passwords, settings
) -> None:
    run = await drill_run(settings)
    both = await staff_account(passwords, "sensei", StaffRole.STAFF, ["みどり小学校", "あおば小学校"])
    await StaffAccount.filter(id=both.id).update(language=Language.EN)
    page = await (await _logged_in(new_browser, both)).get(f"/staff/broadcasts/{run.broadcast.id}/drill-report")
    assert page.status_code == 200 and "<h1>Drill report</h1>" in page.text
    assert _cell(page.text, f"first-{run.midori.id}") == "1 min 00 s (10:01:00 AM)"
    assert_one_language(page.text, Language.EN, names=["避難訓練", "みどり小学校", "あおば小学校"])

    one = await staff_account(passwords, "midori", StaffRole.STAFF, ["みどり小学校"])
    refused = await (await _logged_in(new_browser, one)).get(f"/staff/broadcasts/{run.broadcast.id}/drill-report")
    assert refused.status_code == 404 and "みどり小学校" not in refused.text  # the drill went to あおば too


async def test_the_start_page_counts_a_drill_apart_from_the_alerts(new_browser, passwords: Passwords, family) -> None:
    from core import broadcasts
    from core.addresses import add_verified_address
    from core.models import BroadcastCategory, Channel

    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    ids = {}
    for title, drill in (("不審者の目撃情報", False), ("避難訓練", True)):
        draft = await broadcasts.create_draft(
            author=None,
            scope=await broadcasts.parse_scope(family.site.name),
            category=BroadcastCategory.DISASTER,
            title=title,
            body="本文",
            drill=drill,
        )
        await broadcasts.confirm(draft.id, by=None)
        ids[title] = draft.id
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])

    start = await (await _logged_in(new_browser, teacher)).get("/staff")

    assert re.search(r'id="count-alerts"><strong>1</strong>', start.text)
    assert re.search(r'id="count-drills"><strong>1</strong>訓練中</div>', start.text)
    assert f'<li><a href="/staff/broadcasts/{ids["不審者の目撃情報"]}"' in start.text
    assert f'<li>訓練: <a href="/staff/broadcasts/{ids["避難訓練"]}"' in start.text
