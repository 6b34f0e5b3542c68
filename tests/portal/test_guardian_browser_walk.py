"""A guardian's pages in a real browser (Debian's Chromium, headless) against ``mimamori serve``, in
Japanese, English and Vietnamese, on a 390 px phone and a desktop: each page in one language only,
no axe-core violation, nothing wider than the screen (issue 18, "Done when").

Screenshots are saved in the test's output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from core.config import Settings
from core.models import Channel, Delivery, Language, NoticeKind, Photo
from core.registration import request_verification
from tests.one_language import assert_one_language
from tests.portal.axe import axe_violations
from tests.portal.conftest import GUARDIAN_PASSWORD, Family
from tests.portal.test_pages_in_one_language import _family_with_a_day

pytestmark = pytest.mark.slow

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


async def _a_family_with_a_day(
    family: Family, settings: Settings, language: Language
) -> tuple[dict[str, str], list[str]]:
    """The home page's day (test_pages_in_one_language) and an address waiting for confirmation;
    the paths of the pages that show them, and the names they show."""
    names = await _family_with_a_day(settings, family, language)
    await request_verification(family.guardian.id, Channel.EMAIL, "naoki@example.jp", settings)
    verification = await Delivery.get(kind=NoticeKind.VERIFICATION)
    photo = await Photo.filter(passage__pupil_id=family.pupil.id).order_by("-taken_at").first()
    assert photo is not None
    token = (await Delivery.get(kind=NoticeKind.BROADCAST)).ack_token
    paths = {
        "home": "/home",
        "photo": f"/photos/{photo.token}",
        "addresses": "/addresses",
        "preferences": "/preferences",
        "acknowledge": f"/ack/{token}",
        "verify": "/verify/" + json.loads(verification.payload)["link"].rsplit("/verify/", 1)[1],
        "language": "/language?next=/home",
    }
    return paths, names


async def _log_in(page: Page, server: str, family: Family) -> None:
    await page.goto(f"{server}/login")
    await page.locator('input[name="login_id"]').fill(family.guardian.login_id)
    await page.locator('input[name="password"]').fill(GUARDIAN_PASSWORD)
    await page.locator('main form button[type="submit"]').click()
    await expect(page).to_have_url(f"{server}/home")


async def _looks_right(page: Page, language: Language, names: list[str], width: int, where: str) -> None:
    assert await page.evaluate("document.documentElement.lang") == str(language), where
    assert_one_language(await page.content(), language, names=names)
    assert await axe_violations(page) == [], where
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: {scroll} px wide on a {width} px screen"


@pytest.mark.parametrize("language", [Language.JA, Language.EN, Language.VI], ids=str)
async def test_a_guardian_walks_their_pages_in_one_language_on_a_phone_and_a_desktop(
    server: str, chromium: Browser, settings: Settings, family, language: Language, tmp_path: Path
) -> None:
    paths, names = await _a_family_with_a_day(family, settings, language)
    for viewport, size in VIEWPORTS.items():
        context = await chromium.new_context(viewport=size, is_mobile=viewport == "phone", locale="ja-JP")
        page = await context.new_page()
        await _log_in(page, server, family)
        for name, path in paths.items():
            await page.goto(f"{server}{path}")
            await _looks_right(page, language, names, size["width"], f"{viewport} {name}")
            await page.screenshot(path=str(tmp_path / f"{language}-{viewport}-{name}.png"), full_page=True)
        await context.close()

    page = await (await chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True)).new_page()
    await page.goto(f"{server}{paths['acknowledge']}")  # from the alert's link, without logging in
    await page.locator('main form button[type="submit"]').click()
    await expect(page.locator("main p.small").last).to_contain_text(
        {Language.JA: "確認済み（", Language.EN: "Acknowledged (", Language.VI: "Đã xác nhận ("}[language]
    )
    await _looks_right(page, language, names, VIEWPORTS["phone"]["width"], "acknowledged")
    await page.screenshot(path=str(tmp_path / f"{language}-acknowledged.png"), full_page=True)
