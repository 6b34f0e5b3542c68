"""What a parent met on the portal (issue 18's walk), each as they would tell it: the address limit
said when an address is asked for, a waiting address cancelled, the second parent confirming from
the link alone, removing asked once more and said done, an acknowledgement shown with its time,
home on a phone, alerts in the reader's language, and every guardian page in one language."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core import broadcasts, unsubscribe
from core.addresses import add_verified_address
from core.config import Settings
from core.models import (
    AddressStatus,
    BroadcastCategory,
    Channel,
    ContactAddress,
    Delivery,
    Direction,
    Language,
    NoticeKind,
    SiteKind,
)
from core.passwords import Passwords
from core.registration import request_verification
from core.registration_notice import render_registration_notice
from core.roster.apply import NewGuardian
from tests.factories import confirmed_broadcast, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import Family, guardian_with_password, log_in_guardian, passage_with_photo

EVERY = list(Language)


async def _verification_link() -> str:
    """The path of the link in the last verification mail: ``/verify/<code>``, with ``?lang=`` for
    a family reading another language than Japanese."""
    notice = await Delivery.filter(kind=NoticeKind.VERIFICATION).order_by("-id").first()
    assert notice is not None
    return "/verify/" + json.loads(notice.payload)["link"].rsplit("/verify/", 1)[1]


async def _verification_code() -> str:
    return (await _verification_link()).removeprefix("/verify/").split("?")[0]


async def _alert(
    family: Family,
    settings: Settings,
    *,
    title: str = "休校のお知らせ",
    body: str = "明日は休校です。",
    ack: bool = True,
    translated: dict | None = None,
) -> int:
    broadcast_id = await confirmed_broadcast(
        family.site.name,
        title=title,
        body=body,
        category=BroadcastCategory.CLOSURE,
        ack_requested=ack,
        translated=translated,
    )
    await broadcasts.continue_fanouts(settings)
    return broadcast_id


# ---- addresses ---------------------------------------------------------------------------------


async def test_the_address_limit_is_said_when_a_third_address_is_asked_for_and_a_waiting_one_can_be_cancelled(
    new_browser, family
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get("/addresses")
    asked = await browser.post("/addresses", {"email": "naoki@example.jp"})
    assert asked.status_code == 200 and "naoki@example.jp に確認メールを送りました" in asked.text

    third = await browser.post("/addresses", {"email": "obaachan@example.jp"})

    assert third.status_code == 400 and "確認待ちを含みます" in third.text  # said now, not after a mail
    assert await Delivery.filter(kind=NoticeKind.VERIFICATION).count() == 1
    assert "メールを追加" not in third.text and "確認待ちを取り消してください" in third.text
    again = await browser.post("/addresses", {"email": "naoki@example.jp"})  # the mail was lost: ask again
    assert again.status_code == 200

    pending = await ContactAddress.get(guardian=family.guardian, status=AddressStatus.PENDING)
    cancelled = await browser.post(f"/addresses/{pending.id}/cancel")
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/addresses?done=cancelled"
    page = await browser.get(cancelled.headers["location"])
    assert '<p class="notice" role="status">確認待ちの連絡先を取り消しました。</p>' in page.text
    assert "naoki@example.jp" not in page.text and "メールを追加" in page.text
    assert not await ContactAddress.filter(id=pending.id).exists()


async def test_a_confirmation_at_the_limit_ends_on_the_addresses_page_saying_why(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get("/addresses")
    await browser.post("/addresses", {"email": "naoki@example.jp"})
    code = await _verification_code()
    for chat in ("1001", "1002"):  # meanwhile both slots were taken from the chats
        await add_verified_address(family.guardian.id, Channel.TELEGRAM, chat, limit=2)

    await browser.get(f"/verify/{code}")
    refused = await browser.post("/verify", {"code": code})

    assert refused.status_code == 409 and "<h1>連絡先</h1>" in refused.text
    assert "登録できるのは2件までです" in refused.text and '<nav class="gnav actions">' in refused.text


async def test_the_second_parent_confirms_their_own_address_from_the_link_without_the_familys_login(
    new_browser, family
) -> None:
    parent = new_browser()
    await log_in_guardian(parent, family.guardian)
    await parent.get("/addresses")
    await parent.post("/addresses", {"email": "naoki@example.jp"})
    code = await _verification_code()

    other_parent = new_browser(client_host="198.51.100.20")
    form = await other_parent.get(f"/verify/{code}")

    assert form.status_code == 200 and "確認されるのはこのアドレスだけです" in form.text
    for private in (family.guardian.name, family.pupil.name, family.guardian.login_id, "keiko", "/home"):
        assert private not in form.text
    wrong = await other_parent.post("/verify", {"code": "0000 1111 2222"})
    assert wrong.status_code == 400 and "コードが違うか、期限切れです。" in wrong.text
    done = await other_parent.post("/verify", {"code": code})
    assert done.status_code == 200 and "連絡先を確認しました" in done.text
    assert family.pupil.name not in done.text and family.guardian.name not in done.text
    address = await ContactAddress.get(guardian=family.guardian)
    assert address.status is AddressStatus.ACTIVE and address.slot == 1
    assert (await other_parent.get("/addresses")).status_code == 303  # still no way into the family's pages


async def test_nobody_cancels_another_familys_waiting_address(
    new_browser, settings: Settings, passwords: Passwords, family
) -> None:
    pending = await request_verification(family.guardian.id, Channel.EMAIL, "naoki@example.jp", settings)
    neighbour = await guardian_with_password(passwords, name="佐藤 美咲")
    browser = new_browser()
    await log_in_guardian(browser, neighbour)
    assert (await browser.post(f"/addresses/{pending.id}/cancel")).status_code == 404
    assert (await browser.get(f"/addresses/{pending.id}/remove")).status_code == 404
    assert await ContactAddress.filter(id=pending.id).exists()


async def test_removing_an_address_is_asked_on_a_page_and_then_said_done(new_browser, family) -> None:
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    listing = await browser.get("/addresses")
    assert f'href="/addresses/{address.id}/remove"' in listing.text
    assert f'action="/addresses/{address.id}/remove"' not in listing.text  # no one-click removal

    asked = await browser.get(f"/addresses/{address.id}/remove")
    assert asked.status_code == 200 and "keiko@example.jp" in asked.text and "削除しない" in asked.text
    assert await ContactAddress.filter(id=address.id).exists()
    removed = await browser.post(f"/addresses/{address.id}/remove")

    assert removed.status_code == 303 and removed.headers["location"] == "/addresses?done=removed"
    page = await browser.get(removed.headers["location"])
    assert "連絡先を削除しました" in page.text and "keiko@example.jp" not in page.text
    assert not await ContactAddress.filter(id=address.id).exists()


# ---- acknowledgements and home -------------------------------------------------------------------


async def test_an_alert_acknowledged_twice_shows_when_not_the_button(new_browser, settings, family) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    broadcast_id = await _alert(family, settings)
    delivery = await Delivery.get(broadcast_id=broadcast_id)
    anyone = new_browser()
    await anyone.get(f"/ack/{delivery.ack_token}")
    await anyone.post(f"/ack/{delivery.ack_token}")

    again = await anyone.get(f"/ack/{delivery.ack_token}")

    assert "確認済み（" in again.text and f'action="/ack/{delivery.ack_token}"' not in again.text
    parent = new_browser()
    await log_in_guardian(parent, family.guardian)
    home = await parent.get("/home")
    assert "確認済み（" in home.text and f"/broadcasts/{broadcast_id}/ack" not in home.text


async def test_home_puts_unacknowledged_alerts_first_and_reads_as_a_parent_would(new_browser, settings, family) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await _alert(family, settings, title="引き渡し訓練のお願い", ack=True)
    await _alert(family, settings, title="運動会のお知らせ", ack=False)  # newer, asks nothing
    sibling = await make_pupil(family.site, "山田 次郎")
    await family.guardian.pupils.add(sibling)
    await passage_with_photo(family)
    hall = await make_site("みどり児童館", SiteKind.HALL)
    await passage_with_photo(
        Family(hall, family.pupil, family.guardian),
        seen_at=datetime.now(UTC) - timedelta(days=2),
        direction=Direction.PASSAGE,
    )
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    home = (await browser.get("/home")).text

    assert home.index("引き渡し訓練のお願い") < home.index("<h2>お子さま</h2>") < home.index("運動会のお知らせ")
    assert "まで表示" in home and "削除" not in home
    assert "山田 次郎：今日はまだ通過がありません。" in home
    assert "山田 次郎：過去30日間の通過はありません。" in home
    assert "児童館に到着しました" in home


@pytest.mark.parametrize("language", [Language.VI, Language.EN, Language.JA_EASY], ids=str)
async def test_an_alert_on_home_and_its_link_is_in_the_guardians_language(
    new_browser, settings, family, language
) -> None:
    family.guardian.language = language
    await family.guardian.save(update_fields=["language"])
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    broadcast_id = await _alert(family, settings, translated={Language.EN: ("School closed", "No school tomorrow.")})
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    home = (await browser.get("/home")).text
    link = (await new_browser().get(f"/ack/{(await Delivery.get(broadcast_id=broadcast_id)).ack_token}")).text

    for page in (home, link):
        assert f'<html lang="{language}">' in page
        if language is Language.EN:
            assert "School closed" in page and "休校のお知らせ" not in page
        else:  # no translation: the Japanese, framed by a sentence in their language
            assert "休校のお知らせ" in page
            assert {Language.VI: "Đây là thông báo", Language.JA_EASY: "ふつうの 日本語"}[language] in page
        assert_one_language(page, language, names=[family.pupil.name, family.site.name, "休校のお知らせ"])


# ---- every guardian page in one language ---------------------------------------------------------


@pytest.mark.parametrize("language", EVERY, ids=str)
async def test_every_guardian_page_is_in_one_language(new_browser, settings, family, language) -> None:
    family.guardian.language = language
    await family.guardian.save(update_fields=["language"])
    _, photo = await passage_with_photo(family)
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    broadcast_id = await _alert(family, settings)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get(f"/photos/{photo.token}")
    await browser.get("/addresses")
    pages = {
        "photo": await browser.get(f"/photos/{photo.token}"),
        "addresses": await browser.post("/addresses", {"email": "naoki@example.jp"}),
        "remove": await browser.get(f"/addresses/{address.id}/remove"),
        "preferences": await browser.get("/preferences"),
        "refused": await browser.post("/preferences", {"quiet_start": "21:00", "language": language.value}),
        "verify": await browser.get(await _verification_link()),
        "verify by link": await (second_parent := new_browser()).get(await _verification_link()),
    }
    token = (await Delivery.get(broadcast_id=broadcast_id)).ack_token
    pages["acknowledge"] = await new_browser().get(f"/ack/{token}")
    lang = (await _verification_link()).partition("?lang=")[2]
    pages["confirmed by link"] = await second_parent.post("/verify", {"code": await _verification_code(), "lang": lang})
    assert pages["confirmed by link"].status_code == 200
    names = [family.pupil.name, family.site.name, family.guardian.login_id, "休校のお知らせ", "明日は休校です。"]
    for name, page in pages.items():
        assert f'<html lang="{language}">' in page.text, name  # by link too: it names the family's language
        assert_one_language(page.text, language, names=names)


@pytest.mark.parametrize("language", [Language.JA, Language.EN, Language.VI], ids=str)
async def test_the_unsubscribe_page_is_in_the_language_of_the_address_owner(new_browser, family, language) -> None:
    family.guardian.language = language
    await family.guardian.save(update_fields=["language"])
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    link = f"/unsubscribe/{unsubscribe.token(address.id)}"

    asked = await new_browser().get(link)  # from a mail, in no session
    done = await new_browser().post(link, {"List-Unsubscribe": "One-Click"}, csrf=False)

    for page in (asked, done):
        assert f'<html lang="{language}">' in page.text
        assert_one_language(page.text, language, names=["ke***@example.jp"])
    chosen = new_browser()
    await chosen.post("/language", {"to": "en", "next": "/"})
    assert '<html lang="en">' in (await chosen.get(link)).text  # the visitor's own choice comes first


@pytest.mark.parametrize("language", EVERY, ids=str)
def test_the_printed_registration_notice_is_in_one_language(language) -> None:
    family = NewGuardian(
        "G001", "K7M2QX9P", "tsuki-yo-7-hoshi", "1234 5678 9012", "山田 恵子", ("みどり小学校 3年2組 山田 花子",)
    )
    html = render_registration_notice(family, portal_url="https://mimamori.example.city", language=language)
    assert f'<html lang="{language}">' in html and "K7M2QX9P" in html and "tsuki-yo-7-hoshi" in html
    assert_one_language(html, language, names=["山田 恵子", "K7M2QX9P", "tsuki-yo-7-hoshi"])
