"""Staff, support and administrators log in with a password and a TOTP code, enrolled at first login."""

from __future__ import annotations

import re
import time

from core import totp
from core.accounts import add_staff
from core.models import StaffAccount, StaffRole
from core.passwords import Passwords
from portal.deps import SESSION_COOKIE
from tests.portal.conftest import STAFF_PASSWORD, fresh_code, log_in_staff, staff_account


async def test_a_new_staff_account_enrols_totp_with_a_qr_code_then_changes_its_password(
    new_browser, passwords: Passwords, family
) -> None:
    issued = await add_staff("tanaka", StaffRole.STAFF, [family.site.name], passwords, actor="test")
    browser = new_browser()
    await browser.get("/staff/login")
    response = await browser.post("/staff/login", {"login_id": "tanaka", "password": issued.secret})
    assert response.headers["location"] == "/staff/totp?next=/staff"
    assert (await browser.get("/staff")).headers["location"] == "/staff/totp?next=/staff"

    enrol = await browser.get("/staff/totp")
    assert "<svg" in enrol.text and "認証アプリ" in enrol.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol.text).group(1)
    assert "<svg" in (await browser.get("/staff/totp")).text  # a reload shows the same secret
    assert secret in (await browser.get("/staff/totp")).text

    wrong = await browser.post("/staff/totp", {"code": "000000", "next": "/staff"})
    assert wrong.status_code == 401
    code = totp.code_at(secret, time.time())
    response = await browser.post("/staff/totp", {"code": code, "next": "/staff"})
    assert response.headers["location"] == "/password?next=/staff"
    await browser.get("/password")
    response = await browser.post(
        "/password",
        {
            "current": issued.secret,
            "new": STAFF_PASSWORD,
            "confirm": STAFF_PASSWORD,
            "next": "/staff",
        },
    )
    assert response.headers["location"] == "/staff"
    menu = await browser.get("/staff")
    assert menu.status_code == 200 and 'href="/staff/broadcasts">緊急連絡<' in menu.text
    staff = await StaffAccount.get(login_id="tanaka")
    assert staff.totp_enrolled_at is not None and not staff.must_change_password


async def test_a_totp_code_works_only_once(new_browser, passwords: Passwords) -> None:
    staff = await staff_account(passwords, "desk1", StaffRole.SUPPORT)
    first, second = new_browser(), new_browser()
    code = fresh_code(staff)
    for browser in (first, second):
        await browser.get("/staff/login")
        await browser.post("/staff/login", {"login_id": "desk1", "password": STAFF_PASSWORD})
        await browser.get("/staff/totp")
    half_token = first.client.cookies.get(SESSION_COOKIE)
    assert (await first.post("/staff/totp", {"code": code})).status_code == 303
    assert first.client.cookies.get(SESSION_COOKIE) != half_token  # a new token once fully logged in
    assert (await second.post("/staff/totp", {"code": code})).status_code == 401


async def test_a_password_alone_does_not_open_staff_pages(new_browser, passwords: Passwords) -> None:
    await staff_account(passwords, "admin1", StaffRole.ADMIN)
    browser = new_browser()
    await browser.get("/staff/login")
    await browser.post("/staff/login", {"login_id": "admin1", "password": STAFF_PASSWORD})
    for path in ("/staff", "/staff/broadcasts", "/support", "/admin/audit"):
        response = await browser.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/staff/totp")


async def test_totp_guessing_is_throttled(new_browser, passwords: Passwords) -> None:
    staff = await staff_account(passwords, "admin2", StaffRole.ADMIN)
    browser = new_browser()
    await browser.get("/staff/login")
    await browser.post("/staff/login", {"login_id": "admin2", "password": STAFF_PASSWORD})
    await browser.get("/staff/totp")
    for n in range(6):
        await browser.post("/staff/totp", {"code": f"{n:06d}"})
    right = await browser.post("/staff/totp", {"code": fresh_code(staff)})
    assert "試行が多すぎます。しばらく待ってください。" in right.text


async def test_a_logged_in_staff_member_sees_the_menu_of_their_role(new_browser, passwords: Passwords) -> None:
    desk = await staff_account(passwords, "desk2", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    menu = await browser.get("/staff")
    assert "サポート窓口" in menu.text and "/staff/broadcasts" not in menu.text
