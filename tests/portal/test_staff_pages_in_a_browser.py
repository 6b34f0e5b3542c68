"""Every staff, support and administrator page in Chromium, on a 390 px phone and a desktop: axe-core
finds nothing, each page is in the staff member's one language (ja, en), and the layout defects
the walk found (a stretched checkbox, a wrapping header, a code broken mid-code, no favicon) are gone."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, Page

from core import broadcasts, totp
from core.accounts import add_staff
from core.addresses import add_verified_address
from core.models import BroadcastCategory, Channel, Gate, Language, StaffAccount, StaffRole
from core.passwords import Passwords
from tests.factories import confirmed_broadcast, make_gate
from tests.one_language import assert_one_language
from tests.portal.axe import axe_violations
from tests.portal.conftest import STAFF_PASSWORD, fresh_code, passage_with_photo, staff_account

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Proper names the pages may show in any language: products, encodings, file and setting names.
NAMES = ["Google Authenticator", "CSV", "UTF-8", "Shift_JIS", "CP932", "Excel", "gate.toml", "server.gate_key"]


async def _open(chromium: Browser, viewport: dict[str, int]) -> Page:
    context = await chromium.new_context(viewport=viewport, is_mobile=viewport is PHONE, locale="ja-JP")
    return await context.new_page()


async def _log_in(page: Page, server: str, staff: StaffAccount, check) -> None:
    await page.goto(f"{server}/staff/login")
    await check(page, "staff login")
    await page.locator("input[name=login_id]").fill(staff.login_id)
    await page.locator("input[name=password]").fill(STAFF_PASSWORD)
    await page.locator("form.stack button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/staff/totp"))
    await check(page, "totp")
    staff = await StaffAccount.get(id=staff.id)
    current = int(time.time() // totp.STEP)
    used = staff.totp_last_step is not None and staff.totp_last_step >= current  # a code works once
    await page.locator("input[name=code]").fill(fresh_code(staff, offset_steps=1 if used else 0))
    await page.locator("form.stack button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/staff$"))


@pytest.mark.parametrize(
    ("language", "viewports"), [(Language.JA, (PHONE, DESKTOP)), (Language.EN, (PHONE, DESKTOP))], ids=["ja", "en"]
)
async def test_every_staff_page_passes_axe_on_a_phone_and_a_desktop_in_one_language(
    server: str, chromium: Browser, passwords: Passwords, family, language: Language, viewports
) -> None:
    await passage_with_photo(family)
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    gate = await Gate.get(site=family.site)
    gate.down_since = gate.last_heartbeat_at = family.guardian.created_at
    await gate.save()
    await make_gate(family.site, "裏門")
    broadcast_id = await confirmed_broadcast(title="大雨のため休校")
    asking = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さまの様子をお知らせください。",
        question=broadcasts.BUILTIN_TEMPLATES[0].question,
    )
    await broadcasts.confirm(asking.id, by=None)
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    admin.language = language
    await admin.save()
    names = [*NAMES, family.site.name, family.pupil.name, family.guardian.name, "正門", "裏門", "kanri", "地震発生"]
    names += [family.guardian.login_id, "T-0001", "test", "電話で本人確認済み"]  # and a reason as typed

    for viewport in viewports:
        check = _Checker(viewport, language, names)
        page = await _open(chromium, viewport)
        await _log_in(page, server, admin, check)
        await page.goto(f"{server}/staff/broadcasts")  # the draft to preview
        for path in (
            "/staff",
            "/staff/passages",
            "/staff/gates",
            "/staff/chat-link",
            "/staff/broadcasts",
            f"/staff/broadcasts/{broadcast_id}",
            f"/staff/broadcasts/{asking.id}",
            f"/staff/broadcasts/{asking.id}/pupils?show=unanswered",
            f"/staff/broadcasts/{asking.id}/print",
            "/staff/question-templates",
            "/support",
            f"/support?name={family.guardian.name}",
            f"/support/guardians/{family.guardian.id}",
            "/admin/sites",
            "/admin/gates",
            f"/admin/gates/{gate.id}/revoke",
            "/admin/staff",
            "/admin/roster",
            "/admin/audit",
        ):
            response = await page.goto(f"{server}{path}")
            assert response is not None and response.ok, path
            await check(page, path)
        await _preview(page, server, family, check)
        await _new_password(page, server, family, check)
        assert len(check.seen) >= 19


@dataclass
class _Checker:
    """axe and one language on a page (the staff login page is in the default language, Japanese)."""

    viewport: dict[str, int]
    language: Language
    names: list[str]
    seen: list[str] = field(default_factory=list)

    async def __call__(self, page: Page, what: str) -> None:
        violations = await axe_violations(page)
        assert violations == [], f"{what} at {self.viewport['width']} px: {violations}"
        shown = await page.content()
        secrets = re.findall(r'(?:class="secret"|id="one-time-password")>([^<]+)<', shown)
        language = Language.JA if what == "staff login" else self.language  # before the account is known
        assert_one_language(shown, language, names=self.names + secrets)
        if self.viewport is PHONE:
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{what}: {width} px wide on a {PHONE['width']} px phone"
        self.seen.append(what)


async def _preview(page: Page, server: str, family, check) -> None:
    await page.goto(f"{server}/staff/broadcasts")
    await page.locator(f"input[name=target][value='{family.site.id}']").check()
    await page.locator("select[name=category]").select_option("general")
    await page.locator("input[name=title]").fill("遠足のお知らせ")
    await page.locator("textarea[name=body]").fill("明日は遠足です。")
    await page.locator("input[name=title]").press("Enter")  # Enter previews, whatever buttons the form has
    await page.wait_for_url(re.compile(r"/preview$"))
    await check(page, "preview")


async def _new_password(page: Page, server: str, family, check) -> None:
    await page.goto(f"{server}/support/guardians/{family.guardian.id}")
    reset = page.locator(f"form[action='/support/guardians/{family.guardian.id}/reset-password']")
    await reset.locator("input[name=reason]").fill("電話で本人確認済み")
    await reset.locator("button").click()
    if "/new-password" not in page.url:  # an earlier viewport's one-time password is still out: confirm
        await check(page, "confirm another password")
        await page.locator("form.actions button").click()
    await page.wait_for_url(re.compile(r"/new-password$"))
    await check(page, "new password")


async def test_checkboxes_the_header_and_codes_keep_their_shape_on_a_390_px_phone(
    server: str, chromium: Browser, passwords: Passwords, family
) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)

    async def nothing(page: Page, what: str) -> None:
        pass

    page = await _open(chromium, PHONE)
    await _log_in(page, server, admin, nothing)
    header = await page.locator("header").bounding_box()
    brand = await page.locator("header .brand").bounding_box()
    logout = await page.locator("header .logout button").bounding_box()
    assert header["height"] < 70 and abs(brand["y"] + brand["height"] / 2 - (logout["y"] + logout["height"] / 2)) < 8

    await page.goto(f"{server}/admin/roster")
    box = await page.locator("input[name=partial]").bounding_box()
    label = await page.locator("label.inline", has=page.locator("input[name=partial]")).bounding_box()
    assert box["width"] < 40 and label["height"] < 3 * box["height"]  # beside its text, not above it

    icon = await page.locator("link[rel=icon]").get_attribute("href")
    answer = await page.request.get(f"{server}{icon}")
    assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml")

    await page.goto(f"{server}/support/guardians/{family.guardian.id}")
    await page.locator("form[action$='/reset-password'] input[name=reason]").fill("本人確認済み")
    await page.locator("form[action$='/reset-password'] button").click()
    if "/new-password" not in page.url:
        await page.locator("form.actions button").click()
    await page.wait_for_url(re.compile(r"/new-password$"))
    code = page.locator("#one-time-password")
    size = float((await code.evaluate("e => getComputedStyle(e).fontSize")).removesuffix("px"))
    assert (await code.bounding_box())["height"] < 2 * size  # one line


async def test_the_audit_table_scrolls_by_keyboard_on_a_phone(
    server: str, chromium: Browser, passwords: Passwords
) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    await add_staff("tanaka", StaffRole.SUPPORT, [], passwords, actor="test")

    async def nothing(page: Page, what: str) -> None:
        pass

    page = await _open(chromium, PHONE)
    await _log_in(page, server, admin, nothing)
    await page.goto(f"{server}/admin/audit")
    region = page.get_by_role("region", name=re.compile("記録"))
    await region.focus()
    assert await region.evaluate("e => e === document.activeElement")
    if await region.evaluate("e => e.scrollWidth > e.clientWidth"):
        await page.keyboard.press("ArrowRight")
        await page.keyboard.press("ArrowRight")
        assert await region.evaluate("e => e.scrollLeft") > 0
