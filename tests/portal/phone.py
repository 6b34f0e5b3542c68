"""A headless Chromium (Debian's) as a 360 px phone, for walks against ``mimamori serve``."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}


csp_violations: dict[int, list[str]] = {}


async def phone(chromium: Browser) -> Page:
    context = await chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ja-JP"
    )
    page = await context.new_page()
    seen = csp_violations.setdefault(id(page), [])
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    return page


async def snap(page: Page, folder: Path, name: str) -> None:
    """Screenshot, after checking the page fits the phone and broke no CSP rule."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a {PHONE['width']} px phone"
    assert csp_violations.get(id(page)) == [], csp_violations.get(id(page))
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def first_login(page: Page, login_id: str, one_time: str, new: str) -> None:
    """On the login page: a guardian logs in with a one-time password and makes the forced change."""
    await page.get_by_label("ログインID").fill(login_id)
    await page.get_by_label("パスワード").fill(one_time)
    await page.get_by_role("button", name="ログイン").click()
    await expect(page.get_by_role("heading", name="パスワード変更")).to_be_visible()
    await page.get_by_label("現在のパスワード").fill(one_time)
    await page.get_by_label("新しいパスワード", exact=False).first.fill(new)
    await page.get_by_label("新しいパスワード（確認）").fill(new)
    await page.get_by_role("button", name="変更する").click()
