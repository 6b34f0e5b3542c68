"""A teacher's morning on the class board, in a real browser on a 360 px phone (``mimamori serve``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from core import zones
from core.models import ReportKind, StaffRole
from core.passwords import Passwords
from tests.attendance import pass_gate, report
from tests.factories import make_gate, make_guardian, make_pupil
from tests.portal.axe import axe_violations
from tests.portal.conftest import staff_account
from tests.portal.phone import phone, snap
from tests.portal.test_browser_walks import _staff_login

pytestmark = pytest.mark.slow


async def test_a_teacher_finds_who_is_not_here_and_marks_a_forgotten_tag(
    server: str, chromium: Browser, passwords: Passwords, family, tmp_path: Path
) -> None:
    site = family.site
    gate, _key = await make_gate(site)
    today = zones.today(site)
    await pass_gate(gate, family.pupil, datetime.now(UTC))
    jiro = await make_pupil(site, "鈴木 次郎", tag="T-0002")
    taro = await make_pupil(site, "佐藤 太郎", tag="T-0003")
    mother = await make_guardian("佐藤 恵子", pupils=[taro])
    await report(taro, ReportKind.ABSENT, today, guardian_id=mother.id)
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [site.name])
    page = await phone(chromium)
    await _staff_login(page, server, teacher)

    await page.goto(f"{server}/staff/board")  # her one school's board, today
    await expect(page.get_by_role("heading", name="出欠ボード")).to_be_visible()
    await expect(page.locator("#total-unseen strong")).to_have_text("1")
    await expect(page.locator(f"#p{taro.id}")).to_contain_text("欠席")
    await snap(page, tmp_path, "1-board")
    assert await axe_violations(page) == []

    await page.get_by_role("link", name="未確認のみ").click()
    await expect(page.locator(f"#p{jiro.id}")).to_contain_text("未確認")
    await expect(page.locator(f"#p{taro.id}")).to_have_count(0)
    await snap(page, tmp_path, "2-not-seen-only")
    await page.get_by_role("button", name="鈴木 次郎を登校にする（タグ忘れ）").click()

    await expect(page.get_by_role("status")).to_have_text("登校を記録しました。")
    await expect(page.locator(f"#p{jiro.id}")).to_contain_text("職員が確認（タグ忘れ）")
    await expect(page.locator("#total-unseen strong")).to_have_text("0")
    await snap(page, tmp_path, "3-marked")
    assert await axe_violations(page) == []
