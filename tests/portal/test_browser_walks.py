"""Walks in a real browser (Debian's Chromium, headless, a 360 px phone) against ``mimamori serve``.

Each walk saves screenshots in the test's output folder.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from core import totp
from core.accounts import add_staff
from core.addresses import add_verified_address
from core.models import Channel, StaffRole
from core.passwords import Passwords
from tests.core.test_roster_import import ROSTER
from tests.factories import make_guardian
from tests.mailsink import MailSink
from tests.portal.axe import axe_violations
from tests.portal.conftest import STAFF_PASSWORD, fresh_code, passage_with_photo, staff_account
from tests.portal.phone import first_login, phone, snap

pytestmark = pytest.mark.slow


async def _staff_login(page: Page, server: str, staff) -> None:
    await page.goto(f"{server}/staff/login")
    await page.get_by_label("ログインID").fill(staff.login_id)
    await page.get_by_label("パスワード").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="ログイン").click()
    await page.get_by_label("確認コード").fill(fresh_code(staff))
    await page.get_by_role("button", name="確認").click()


async def test_a_guardian_follows_a_notice_link_through_login_and_a_first_password_change(
    server: str, chromium: Browser, passwords: Passwords, family, tmp_path: Path
) -> None:
    one_time, stored = passwords.issue_one_time()
    family.guardian.password_hash, family.guardian.must_change_password = stored, True
    await family.guardian.save()
    _, photo = await passage_with_photo(family)
    page = await phone(chromium)

    await page.goto(f"{server}/photos/{photo.token}")  # the link in the arrival notice
    await expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    await snap(page, tmp_path, "1-login")
    await page.get_by_label("ログインID").fill(family.guardian.login_id.lower())
    await page.get_by_label("パスワード").fill(one_time)
    await page.get_by_role("button", name="ログイン").click()

    await expect(page.get_by_role("heading", name="パスワード変更")).to_be_visible()
    await snap(page, tmp_path, "2-first-password-change")
    await page.get_by_label("現在のパスワード").fill(one_time)
    await page.get_by_label("新しいパスワード", exact=False).first.fill("hanako-no-okaasan-7")
    await page.get_by_label("新しいパスワード（確認）").fill("hanako-no-okaasan-7")
    await page.get_by_role("button", name="変更する").click()

    await expect(page).to_have_url(f"{server}/photos/{photo.token}")
    await expect(page.get_by_role("img", name="通過時の写真")).to_be_visible()
    assert await page.evaluate("document.querySelector('img.photo').naturalWidth") == 320
    await expect(page.locator("ul.views")).to_contain_text("あなた")
    await expect(page.get_by_text("に削除されます")).to_be_visible()
    await expect(page.get_by_text("This photo will be deleted on")).to_be_hidden()
    await snap(page, tmp_path, "3-photo")
    await page.goto(f"{server}/home")
    await expect(page.get_by_text("山田 花子").first).to_be_visible()
    await snap(page, tmp_path, "4-home")
    await page.get_by_role("link", name="言語: 日本語").click()  # and the same pages in English
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Children")).to_be_visible()
    await expect(page.get_by_text("お子さま")).to_have_count(0)
    await snap(page, tmp_path, "5-home-in-english")
    await page.goto(f"{server}/photos/{photo.token}")
    await expect(page.get_by_text("This photo will be deleted on")).to_be_visible()
    await expect(page.get_by_text("に削除されます")).to_be_hidden()
    await snap(page, tmp_path, "6-photo-in-english")


async def test_staff_compose_preview_confirm_and_watch_the_counts(
    server: str, chromium: Browser, passwords: Passwords, family, mail_sink: MailSink, tmp_path: Path
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await make_guardian("鈴木 花", pupils=[family.pupil], emails=["hana@docomo.ne.jp"])
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    page = await phone(chromium)
    await _staff_login(page, server, teacher)
    await expect(page.get_by_role("heading", name="みどり小学校")).to_be_visible()  # her school's day

    await page.get_by_role("link", name="緊急連絡", exact=True).click()
    await expect(page.get_by_role("checkbox", name="みどり小学校")).to_be_checked()  # her one school
    await page.get_by_label("種別").select_option("suspicious_person")
    await page.get_by_label("件名（日本語）").fill("不審者の目撃情報")
    await page.get_by_label("本文（日本語）").fill("本日15時ごろ、正門付近で不審者が目撃されました。")
    await page.get_by_label("受信確認を求める").check()
    english = page.locator("details", has=page.locator("summary", has_text="English"))
    await english.locator("summary").click()  # a translation, for the families who read English
    await english.get_by_label("件名").fill("A stranger near the gate")
    await english.get_by_label("本文").fill("Seen at 3 p.m.")
    await snap(page, tmp_path, "1-compose")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="プレビュー").click()

    await expect(page.get_by_role("heading", name="プレビュー")).to_be_visible()
    await expect(page.locator(".recipients strong")).to_have_text("2")
    await expect(page.locator("#sample-ja .preview.line")).to_contain_text(
        "【不審者情報】不審者の目撃情報\n\n本日15時ごろ"
    )
    await expect(page.locator("#sample-ja strong.subject")).to_have_text("【不審者情報】不審者の目撃情報")
    await snap(page, tmp_path, "2-preview")
    assert await axe_violations(page) == []
    assert mail_sink.received == []
    await page.get_by_role("button", name="この内容で送信").click()

    await page.get_by_role("link", name="10秒").click()  # the reader asks for it to reload itself
    await expect(page.locator("#count-sent strong")).to_have_text("2", timeout=30_000)
    await expect(page.locator("#count-queued strong")).to_have_text("0")
    # by recipient group: the carrier's mail apart from the rest (sent, waiting, deferred, failed)
    for group, label in (("docomo", "メール docomo"), ("other", "メール その他のドメイン")):
        cells = page.locator(f"#group-email-{group} td")
        await expect(cells).to_have_text([label, "1", "0", "0", "0", "-"])
    await snap(page, tmp_path, "3-status")
    assert await axe_violations(page) == []  # no meta refresh: the Refresh header the reader chose
    assert sorted(mail_sink.per_recipient()) == ["hana@docomo.ne.jp", "keiko@example.jp"]


async def test_the_support_desk_resets_a_password_and_the_guardian_logs_in_with_it(
    server: str, chromium: Browser, passwords: Passwords, family, tmp_path: Path
) -> None:
    issued = await add_staff("madoguchi", StaffRole.SUPPORT, [], passwords, actor="test")
    page = await phone(chromium)
    await page.goto(f"{server}/staff/login")  # the desk's first login: enrol TOTP, then a password
    await page.get_by_label("ログインID").fill("madoguchi")
    await page.get_by_label("パスワード").fill(issued.secret)
    await page.get_by_role("button", name="ログイン").click()
    await expect(page.locator(".qr svg")).to_be_visible()
    await snap(page, tmp_path, "0-totp-enrolment")
    secret = (await page.locator("code.secret").text_content()).strip()
    await page.get_by_label("確認コード").fill(totp.code_at(secret, time.time()))
    await page.get_by_role("button", name="確認").click()
    await page.get_by_label("現在のパスワード").fill(issued.secret)
    await page.get_by_label("新しいパスワード", exact=False).first.fill(STAFF_PASSWORD)
    await page.get_by_label("新しいパスワード（確認）").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="変更する").click()
    await page.get_by_role("link", name="サポート窓口").click()
    await page.get_by_label("保護者または児童の氏名").fill("山田 花子")
    await page.get_by_role("button", name="検索").click()
    await page.get_by_role("link", name=re.compile(family.guardian.login_id)).click()
    await snap(page, tmp_path, "1-account")
    reset = page.locator("form", has=page.get_by_role("button", name="パスワードを再発行"))
    await reset.get_by_label("理由").fill("電話で本人確認済み")
    await reset.get_by_role("button", name="パスワードを再発行").click()
    password = (await page.locator("#one-time-password").text_content()).strip()
    await snap(page, tmp_path, "2-new-password")
    await page.emulate_media(media="print")  # the printed notice: no forms, no navigation
    await page.screenshot(path=str(tmp_path / "3-printed.png"), full_page=True)

    guardian = await phone(chromium)
    await guardian.goto(f"{server}/login")
    await first_login(guardian, family.guardian.login_id, password, "atarashii-pass-42")
    await expect(guardian.get_by_role("heading", name="ホーム")).to_be_visible()
    await snap(guardian, tmp_path, "4-guardian-home")


async def test_an_administrator_uploads_a_roster_and_saves_the_notices_to_print(
    server: str, chromium: Browser, passwords: Passwords, tmp_path: Path
) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER.encode("shift_jis"))  # as a school's spreadsheet saves it
    page = await phone(chromium)
    await _staff_login(page, server, admin)
    await page.goto(f"{server}/admin/roster")
    await page.get_by_label("名簿CSV").set_input_files(str(roster))
    await page.get_by_role("button", name="取り込む").click()
    await expect(page.locator("p.notice")).to_contain_text("取り込みました")
    await snap(page, tmp_path, "1-imported")

    async with page.expect_download() as saving:
        await page.get_by_role("link", name="登録のお知らせ（印刷用）を保存").click()
    download = await saving.value
    assert download.suggested_filename == "registration-notices.html"
    printable = tmp_path / "registration-notices.html"
    await download.save_as(printable)
    logins = await page.locator("table.credentials tr td:nth-child(2)").all_text_contents()
    notices = await page.context.new_page()
    await notices.goto(printable.as_uri())
    await notices.emulate_media(media="print")
    await expect(notices.locator("section.notice")).to_have_count(len(logins))
    for login_id in logins:
        await expect(notices.locator("td.secret", has_text=login_id)).to_have_count(1)
    await notices.screenshot(path=str(tmp_path / "2-notices-printed.png"), full_page=True)
