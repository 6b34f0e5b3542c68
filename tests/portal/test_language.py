"""Pages are Japanese with English beside it, or English alone when chosen."""

from __future__ import annotations

from core.models import Guardian, Language
from tests.portal.conftest import log_in_guardian


async def test_pages_show_japanese_first_and_english_second_by_default(new_browser, family) -> None:
    page = await new_browser().get("/login")
    assert '<html lang="ja">' in page.text
    assert page.text.index("ログインID") < page.text.index("Login ID")


async def test_a_visitor_chooses_english_before_logging_in(new_browser) -> None:
    browser = new_browser()
    await browser.get("/login")
    chosen = await browser.post("/language", {"to": "en", "next": "/login"})
    assert chosen.headers["location"] == "/login"
    page = await browser.get("/login")
    assert '<html lang="en">' in page.text and '<body class="lang-en">' in page.text  # hides class="ja"
    assert "<label>Login ID" in page.text and "ログインID <span" not in page.text
    assert "日本語" in page.text  # the way back


async def test_a_guardians_choice_is_kept_with_the_account_and_used_for_notices_too(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.post("/language", {"to": "en", "next": "/home"})
    assert (await Guardian.get(id=family.guardian.id)).language is Language.EN
    home = await browser.get("/home")
    assert "Children" in home.text and "お子さま" not in home.text and "arrival" not in home.text.split("<main>")[0]

    elsewhere = new_browser()  # another phone: the account's language follows the login
    await log_in_guardian(elsewhere, family.guardian)
    assert "お子さま" not in (await elsewhere.get("/home")).text
    assert (
        "Guardians: log in" in (await elsewhere.get("/")).text
        and "保護者ログイン" not in (await elsewhere.get("/")).text
    )
