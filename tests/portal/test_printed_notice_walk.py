"""A parent scans the printed registration notice in Chromium and follows it to registering an address."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.async_api import Browser, expect

from tests.core.test_roster_import import ROSTER
from tests.portal.phone import first_login, phone, snap

pytestmark = pytest.mark.slow


def _decode_qr(png: bytes) -> str:
    """What a phone camera reads off the code. OpenCV's ArUco-based detector: its classic one missed
    about one code in four of these (the URL, and so the code, changes with the server's port)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    return text


async def test_a_parent_scans_the_printed_notice_logs_in_and_lands_on_registering_an_address(
    cli, server: str, chromium: Browser, tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    imported = cli(
        "admin",
        "import-roster",
        "roster.csv",
        "--credentials-out",
        "creds.csv",
        "--notices-out",
        "notices",
        env={"MIMAMORI_PORTAL__PUBLIC_URL": server},
    )
    assert imported.returncode == 0, imported.stderr
    [letter] = [p for p in (tmp_path / "notices").iterdir() if "-G002-" in p.name]  # one address yet: room for one more

    printed = await (await chromium.new_context(locale="ja-JP")).new_page()
    await printed.goto(letter.as_uri())
    login_id, password, _ = [(await cell.text_content()).strip() for cell in await printed.locator("td.secret").all()]
    scanned = _decode_qr(await printed.get_by_role("img", name="登録用QRコード").screenshot())
    assert re.fullmatch(rf"{re.escape(server)}/register/\d{{12}}", scanned)
    assert await printed.locator("figcaption.url").text_content() == scanned  # for those who type it

    page = await phone(chromium)
    await page.goto(scanned)
    await expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    await expect(page.get_by_text("受け取り先の登録に進みます")).to_be_visible()
    await snap(page, tmp_path, "1-login-from-the-qr-code")
    await first_login(page, login_id, password, "naoki-no-atarashii-8")

    await expect(page).to_have_url(scanned)
    await expect(page.get_by_role("heading", name="連絡先")).to_be_visible()
    await expect(page.locator("p.otp")).to_have_text(scanned.rsplit("/", 1)[1])
    await page.get_by_label("メールアドレス").fill("naoki.home@example.jp")
    await page.get_by_role("button", name="確認メールを送る").click()
    await expect(page.get_by_text("確認メールを送りました")).to_be_visible()
    await snap(page, tmp_path, "2-registering-an-address")
