"""The guardian's converted pages in every language: each page in one language only, nothing
doubled and nothing left in English; a language chosen on /preferences is the next page's and the
next notice's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from core import broadcasts
from core.addresses import add_verified_address
from core.config import Settings
from core.directions import LABELS
from core.i18n.languages import LANGUAGES
from core.models import BroadcastCategory, Channel, Direction, Guardian, Language
from core.passages import record_passage
from core.passwords import Passwords
from core.wire import PassageEvent
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import confirmed_broadcast, make_gate, make_pupil
from tests.one_language import assert_one_language
from tests.portal.conftest import (
    GUARDIAN_PASSWORD,
    Family,
    guardian_with_password,
    log_in_guardian,
    passage_with_photo,
)

EVERY = list(Language)


async def _choose(browser, language: Language) -> None:
    await browser.post("/language", {"to": language.value, "next": "/"})


@pytest.mark.parametrize("language", EVERY, ids=str)
async def test_the_pages_before_login_are_in_the_chosen_language(new_browser, language) -> None:
    browser = new_browser()
    await _choose(browser, language)
    for path in ("/", "/login", "/login?next=/register/x", "/language?next=/", "/no-such-page"):
        page = await browser.get(path)
        assert f'<html lang="{language}">' in page.text, path
        assert_one_language(page.text, language)


async def _family_with_a_day(settings: Settings, family: Family, language: Language) -> list[str]:
    """Today's passage, one three days ago, an alert asking to be acknowledged; the names shown."""
    family.guardian.language = language
    await family.guardian.save(update_fields=["language"])
    await passage_with_photo(family)
    await passage_with_photo(family, seen_at=datetime.now(UTC) - timedelta(days=3), direction=Direction.DEPARTURE)
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await confirmed_broadcast(
        family.site.name,
        title="休校のお知らせ",
        body="明日は休校です。",
        category=BroadcastCategory.CLOSURE,
        ack_requested=True,
    )
    await broadcasts.continue_fanouts(settings)
    return [family.pupil.name, family.site.name, "休校のお知らせ", "明日は休校です。", family.guardian.login_id]


@pytest.mark.parametrize("language", EVERY, ids=str)
async def test_a_guardians_home_is_in_their_language(new_browser, settings, family, language) -> None:
    names = await _family_with_a_day(settings, family, language)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    home = await browser.get("/home")

    assert home.status_code == 200 and f'<html lang="{language}">' in home.text
    for direction in (Direction.ARRIVAL, Direction.DEPARTURE):
        assert LABELS[direction].translate(language) in home.text
    assert_one_language(home.text, language, names=names)
    assert_one_language((await browser.get("/password")).text, language, names=names)


@pytest.mark.parametrize("language", [Language.JA, Language.EN, Language.ZH_HANS], ids=str)
async def test_a_refused_password_change_says_why_in_the_guardians_language(
    new_browser, passwords: Passwords, language
) -> None:
    guardian = await guardian_with_password(passwords, must_change=True)
    guardian.language = language
    await guardian.save(update_fields=["language"])
    browser = new_browser()
    await log_in_guardian(browser, guardian)
    refused = await browser.post(
        "/password", {"current": GUARDIAN_PASSWORD, "new": "short", "confirm": "short", "next": "/home"}
    )

    assert refused.status_code == 400
    expected = {
        Language.JA: "パスワードは10文字以上にしてください。",
        Language.EN: "A password needs at least 10 characters.",
        Language.ZH_HANS: "密码至少需要10个字符。",
    }[language]
    assert f'<p class="error" role="alert">{expected}</p>' in refused.text
    assert_one_language(refused.text, language, names=[guardian.login_id])


async def test_a_language_chosen_on_preferences_is_the_next_pages_and_the_next_notices(
    new_browser, family, mail_settings, mail_sink, deliver
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    form = await browser.get("/preferences")
    for spec in LANGUAGES.values():  # every language, named in itself
        assert f'<option value="{spec.language}" lang="{spec.language}"' in form.text and spec.name in form.text

    await browser.post("/preferences", {"language": "vi", "quiet_start": "", "quiet_end": ""})

    assert (await Guardian.get(id=family.guardian.id)).language is Language.VI
    home = await browser.get("/home")
    assert '<html lang="vi">' in home.text and "Các con" in home.text
    assert_one_language(home.text, Language.VI, names=[family.pupil.name, family.site.name])

    gate, _ = await make_gate(family.site)
    await family.guardian.pupils.add(await make_pupil(family.site, "山田 花子", tag="0A1B2C3D4E"))
    event = PassageEvent(event_id=uuid4(), tag="0A1B2C3D4E", seen_at=datetime.now(UTC), reader="正門")
    await record_passage(gate, event, None, mail_settings)
    await deliver()
    [mail] = mail_sink.to("keiko@example.jp")
    assert mail.message["Subject"].startswith("[Mimamori] 花子 ") and "花子 đã " in mail.text
    assert_one_language(mail.message["Subject"], Language.VI, names=["花子", family.site.name])
    assert_one_language(mail.text, Language.VI, names=["花子", family.site.name])
