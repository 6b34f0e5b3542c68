"""Pages are in one language: Japanese by default, another when chosen (the header's globe, before
login too; a logged-in account keeps the choice, and staff choose between Japanese and English)."""

from __future__ import annotations

import pytest

from core.i18n.languages import LANGUAGES
from core.models import Guardian, Language, StaffAccount, StaffRole
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_guardian, log_in_staff, staff_account


async def test_pages_are_japanese_alone_by_default(new_browser, family) -> None:
    page = await new_browser().get("/login")
    assert '<html lang="ja">' in page.text
    assert "<label>ログインID" in page.text and "Login ID" not in page.text
    assert_one_language(page.text, Language.JA)


@pytest.mark.parametrize(
    ("language", "login_id"),
    [(Language.EN, "Login ID"), (Language.VI, "ID đăng nhập"), (Language.JA_EASY, "ログインID")],
    ids=str,
)
async def test_a_visitor_chooses_a_language_before_logging_in(new_browser, language, login_id) -> None:
    browser = new_browser()
    await browser.get("/login")
    choice = await browser.get("/language?next=/login")
    for spec in LANGUAGES.values():  # every language, each named in itself
        assert f'value="{spec.language}" lang="{spec.language}"' in choice.text and spec.name in choice.text
    chosen = await browser.post("/language", {"to": language.value, "next": "/login"})
    assert chosen.headers["location"] == "/login"
    page = await browser.get("/login")
    assert f'<html lang="{language}">' in page.text and f"<label>{login_id}" in page.text
    assert_one_language(page.text, language)
    assert 'href="/language?next=/login"' in page.text and LANGUAGES[language].name in page.text  # the way on


async def test_a_wrong_login_is_told_in_the_chosen_language(new_browser, family) -> None:
    browser = new_browser()
    await browser.post("/language", {"to": "pt-BR", "next": "/login"})
    await browser.get("/login")
    refused = await browser.post("/login", {"login_id": family.guardian.login_id, "password": "not-it-at-all"})
    assert refused.status_code == 401 and "O ID de acesso ou a senha está errado." in refused.text
    assert_one_language(refused.text, Language.PT_BR, names=[family.guardian.login_id])


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


async def test_staff_choose_between_japanese_and_english_only(new_browser, passwords, family) -> None:
    staff = await staff_account(passwords, "kato", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, staff)
    choice = await browser.get("/language?next=/staff")
    assert 'value="en"' in choice.text and 'value="vi"' not in choice.text and "Tiếng Việt" not in choice.text
    await browser.post("/language", {"to": "en", "next": "/staff"})
    assert (await StaffAccount.get(id=staff.id)).language is Language.EN
    await browser.post("/language", {"to": "vi", "next": "/staff"})  # not offered: the default instead
    assert (await StaffAccount.get(id=staff.id)).language is Language.JA
