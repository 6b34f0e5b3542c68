"""A clerk's broadcast on the portal, in the staff's language: the picker, errors that say what went
wrong, translations per language, a preview that is exactly what each family is sent, a scope that
reaches nobody refused, and a status page that names who was not reached and how to reach them."""

from __future__ import annotations

import html
import re

from core.addresses import add_verified_address
from core.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    Guardian,
    Language,
    StaffAccount,
    StaffRole,
)
from core.passwords import Passwords
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_staff, staff_account

TEXT = {"category": "suspicious_person", "title": "不審者の目撃情報", "body": "正門付近で不審な人物が目撃されました。"}
NAMES = ["みどり小学校", "山田 花子", "山田 恵子", "不審者の目撃情報", "正門付近で不審な人物が目撃されました。"]


async def _teacher(new_browser, passwords: Passwords, site, *, language: Language = Language.JA):
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [site.name])
    await StaffAccount.filter(id=teacher.id).update(language=language)
    browser = new_browser()
    await log_in_staff(browser, teacher)
    await browser.get("/staff/broadcasts")
    return browser


async def test_a_refused_broadcast_says_why_in_the_staffs_language_and_keeps_what_was_typed(
    new_browser, passwords: Passwords, family
) -> None:
    """Before, any scope error answered 400 and drew the form again with no message in the staff's language."""
    other = await make_site("さくら小学校")
    for language, said in (
        (Language.JA, "さくら小学校はあなたの担当の拠点ではありません。"),
        (Language.EN, "さくら小学校 is not your site."),
    ):
        browser = await _teacher(new_browser, passwords, family.site, language=language)
        form = {**TEXT, "target": str(other.id), "translation_language": "en", "translation_title": "A stranger"}
        half = await browser.post("/staff/broadcasts", {**form, "target": str(family.site.id)})
        assert half.status_code == 400 and ("英語の翻訳には件名と本文の両方が必要です。" in half.text) == (
            language is Language.JA
        )
        refused = await browser.post("/staff/broadcasts", {**form, "translation_body": "A stranger was seen."})
        assert refused.status_code == 400
        assert f'<p class="error" role="alert">{said}</p>' in refused.text
        assert (
            'value="不審者の目撃情報"' in refused.text
            and ">正門付近で不審な人物が目撃されました。</textarea>" in refused.text
        )
        assert 'value="A stranger"' in refused.text and ">A stranger was seen.</textarea>" in refused.text
        assert re.search(rf'name="target" value="{other.id}" checked', refused.text) is None  # not one of hers
        assert_one_language(refused.text, language, names=[*NAMES, "さくら小学校", "A stranger"])
        await StaffAccount.filter(login_id="sensei").delete()
    assert not await Broadcast.exists()


async def test_the_scope_is_picked_from_the_staffs_own_sites_grades_and_classes(
    new_browser, passwords: Passwords, family, settings, deliver, mail_sink
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    other_class = await make_pupil(family.site, "鈴木 蓮")
    other_class.class_name = "1"
    await other_class.save()
    await make_guardian("鈴木 裕子", pupils=[other_class], emails=["yuko@example.jp"])
    await make_site("さくら小学校")
    browser = await _teacher(new_browser, passwords, family.site)

    page = await browser.get("/staff/broadcasts")
    boxes = re.findall(r'name="target" value="([^"]+)"(?: checked)?> ([^<]+)</label>', page.text)
    site = family.site.id
    assert boxes == [
        (f"{site}", "みどり小学校"),
        (f"{site}:3", "3年"),
        (f"{site}:3:1", "3年1組"),
        (f"{site}:3:2", "3年2組"),
    ]
    assert f'value="{site}" checked' in page.text  # her one school, as before
    assert "さくら小学校" not in page.text and 'value="all"' not in page.text  # not hers; not the city

    draft = await browser.post("/staff/broadcasts", {**TEXT, "target": f"{site}:3:2"})
    assert draft.status_code == 303
    preview = await browser.get(draft.headers["location"])
    assert "みどり小学校 3年2組" in preview.text and "送信先の保護者: <strong>1</strong>" in preview.text
    await browser.post(draft.headers["location"].replace("/preview", "/confirm"))
    from core.broadcasts import continue_fanouts

    await continue_fanouts(settings)
    await deliver()
    assert list(mail_sink.per_recipient()) == ["keiko@example.jp"]


async def test_a_scope_that_reaches_nobody_cannot_be_previewed_into_a_send(
    new_browser, passwords: Passwords, family
) -> None:
    """Before, 「みどり小学校:7」 previewed 「0人」 and could be confirmed and "sent"."""
    browser = await _teacher(new_browser, passwords, family.site)
    site = family.site.id
    nobody = await browser.post("/staff/broadcasts", {**TEXT, "target": f"{site}:7"})
    assert nobody.status_code == 400 and "みどり小学校 7年には児童がいません。" in nobody.text
    assert not await Broadcast.exists()

    draft = await browser.post("/staff/broadcasts", {**TEXT, "target": str(site)})
    await Guardian.filter(id=family.guardian.id).update(wants_broadcasts=False)  # since the draft was made
    preview = await browser.get(draft.headers["location"])
    reason = "みどり小学校の児童の保護者に、一斉連絡を受け取る人がいません。"
    assert reason in preview.text and "この内容で送信" not in preview.text
    confirmed = await browser.post(draft.headers["location"].replace("/preview", "/confirm"))
    assert confirmed.status_code == 409 and reason in confirmed.text
    assert (await Broadcast.get()).status is BroadcastStatus.DRAFT and not await Delivery.exists()


async def test_the_preview_counts_each_language_and_shows_what_each_is_sent(
    new_browser, passwords: Passwords, family
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    for n, language in enumerate((Language.EN, Language.EN, Language.VI)):
        await make_guardian(f"保護者 {n}", pupils=[family.pupil], emails=[f"p{n}@example.jp"], language=language)
    browser = await _teacher(new_browser, passwords, family.site)
    draft = await browser.post(
        "/staff/broadcasts",
        {
            **TEXT,
            "target": str(family.site.id),
            "translation_language": ["en", "vi"],
            "translation_title": ["A stranger near the gate", ""],
            "translation_body": ["A stranger was seen near the main gate.", ""],
        },
    )
    preview = await browser.get(draft.headers["location"])

    rows = dict(re.findall(r'<tr id="language-([^"]+)">.*?</td><td>(\d+)</td>', preview.text, re.S))
    assert rows == {"ja": "1", "en": "2", "vi": "1"}
    english = _section(preview.text, "en")
    assert "[Suspicious person] A stranger near the gate" in english
    assert "A stranger was seen near the main gate." in english
    vietnamese = _section(preview.text, "vi")
    assert "Đây là thông báo từ nhà trường (bằng tiếng Nhật)." in vietnamese
    assert "[Người khả nghi] 不審者の目撃情報" in vietnamese and "正門付近で不審な人物が目撃されました。" in vietnamese
    email = await browser.get(draft.headers["location"] + "/email?language=vi")
    assert '<html lang="vi">' in email.text and "Đây là thông báo từ nhà trường" in email.text
    assert_one_language(preview.text, Language.JA, names=NAMES)


def _section(page: str, language: str) -> str:
    found = re.search(rf'<section class="sample" id="sample-{language}">(.*?)</section>', page, re.S)
    assert found, language
    return html.unescape(found.group(1))


async def test_the_subject_names_the_category_once(new_browser, passwords: Passwords, family) -> None:
    """Before: 【不審者情報】【不審者情報】正門付近で… when the title began with the category."""
    browser = await _teacher(new_browser, passwords, family.site)
    draft = await browser.post(
        "/staff/broadcasts", {**TEXT, "title": "【不審者情報】正門付近で目撃", "target": str(family.site.id)}
    )
    preview = await browser.get(draft.headers["location"])
    assert '<strong class="subject" lang="ja">【不審者情報】正門付近で目撃</strong>' in preview.text
    assert "【不審者情報】【不審者情報】" not in preview.text


async def test_the_status_page_names_who_was_not_reached_and_who_has_not_acknowledged(
    new_browser, passwords: Passwords, family, settings, deliver, mail_sink
) -> None:
    """Before, "not reached" listed login IDs only, and those who had not acknowledged were a count."""
    from core.broadcasts import PORTAL, answer, continue_fanouts

    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    bounced = await make_guardian("鈴木 花", pupils=[family.pupil], emails=["nobody@example.jp"])
    mail_sink.answer("nobody@example.jp", "550 5.1.1 No such user")
    silent = await make_guardian("田中 次郎", pupils=[family.pupil])  # no address at all
    # answers are per child: 佐藤's own child, answered, leaves 花子 unanswered
    reader = await make_guardian(
        "佐藤 直樹", pupils=[await make_pupil(family.site, "佐藤 蓮")], emails=["naoki@example.jp"]
    )
    browser = await _teacher(new_browser, passwords, family.site)
    draft = await browser.post("/staff/broadcasts", {**TEXT, "ack": "1", "target": str(family.site.id)})
    status_url = (await browser.post(draft.headers["location"].replace("/preview", "/confirm"))).headers["location"]
    await continue_fanouts(settings)
    await deliver()
    broadcast = await Broadcast.get()
    await answer(broadcast.id, reader.id, 0, via=PORTAL)

    page = (await browser.get(status_url)).text
    not_reached = _table(page, "not-reached")
    assert ["山田 花子 みどり小学校 3年2組", f"鈴木 花 {bounced.login_id}"] == not_reached[bounced.login_id][:2]
    assert "mail server refused" in not_reached[bounced.login_id][2]  # the server's words, marked as English
    assert "nobody@example.jp" in not_reached[bounced.login_id][3]  # to this school's staff: how to reach them
    assert not_reached[silent.login_id][2:] == ["連絡先の登録なし", "連絡先の登録なし"]
    waiting = _table(page, "unacknowledged")
    assert list(waiting) == [family.guardian.login_id]  # 佐藤 acknowledged; 鈴木 and 田中 were not reached
    assert waiting[family.guardian.login_id] == [
        "山田 花子 みどり小学校 3年2組",
        f"山田 恵子 {family.guardian.login_id}",
        "keiko@example.jp",
    ]
    assert "電話番号はありません" in page
    assert_one_language(
        page, Language.JA, names=[*NAMES, "鈴木 花", "田中 次郎", "佐藤 直樹", "佐藤 蓮", "nobody@example.jp"]
    )

    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    board = new_browser()
    await log_in_staff(board, admin)
    seen_by_board = (await board.get(status_url)).text
    assert "山田 花子" in seen_by_board and "nobody@example.jp" not in seen_by_board  # not their school's staff


def _table(page: str, table_id: str) -> dict[str, list[str]]:
    """The rows of a table by the login ID in their guardian cell: each cell's visible text."""
    found = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert found, table_id
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]:
        cells = [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        login = cells[1].split()[-1]
        rows[login] = cells
    return rows


async def test_the_status_page_reloads_itself_only_when_asked(
    new_browser, passwords: Passwords, family, settings
) -> None:
    """Before, a meta refresh reloaded it every 5 s unasked (axe: "meta-refresh", WCAG 2.2.1)."""
    browser = await _teacher(new_browser, passwords, family.site)
    draft = await browser.post("/staff/broadcasts", {**TEXT, "target": str(family.site.id)})
    status_url = (await browser.post(draft.headers["location"].replace("/preview", "/confirm"))).headers["location"]

    plain = await browser.get(status_url)  # still fanning out: live
    assert "refresh" not in plain.headers and 'http-equiv="refresh"' not in plain.text
    assert f'<a href="{status_url}">再読み込み</a>' in plain.text and f"{status_url}?refresh=30" in plain.text
    asked = await browser.get(f"{status_url}?refresh=30")
    assert asked.headers["refresh"] == "30" and "30秒ごとに再読み込みされます" in asked.text
    assert "refresh" not in (await browser.get(f"{status_url}?refresh=1")).headers  # not one offered

    from core.broadcasts import continue_fanouts

    await continue_fanouts(settings)
    await Delivery.all().update(status="sent")
    done = await browser.get(f"{status_url}?refresh=30")  # nothing more will change: no reloading
    assert "refresh" not in done.headers and "?refresh=" not in done.text


async def test_an_english_speaking_clerk_sees_every_broadcast_page_in_english(
    new_browser, passwords: Passwords, family, settings, deliver
) -> None:
    from core.broadcasts import continue_fanouts

    await make_guardian("鈴木 花", pupils=[family.pupil], emails=["hana@example.jp"], language=Language.VI)
    browser = await _teacher(new_browser, passwords, family.site, language=Language.EN)
    compose = await browser.get("/staff/broadcasts")
    draft = await browser.post("/staff/broadcasts", {**TEXT, "ack": "1", "target": str(family.site.id)})
    preview = await browser.get(draft.headers["location"])
    assert "Guardians in scope: <strong>2</strong>" in preview.text
    assert "The Japanese text, after a sentence in their language" in preview.text
    status_url = (await browser.post(draft.headers["location"].replace("/preview", "/confirm"))).headers["location"]
    await continue_fanouts(settings)
    await deliver()
    status = await browser.get(status_url)
    assert "Reached, not acknowledged yet (1)" in status.text and "no registered address" in status.text
    names = [*NAMES, "鈴木 花", "hana@example.jp", family.guardian.login_id]
    for page in (compose, preview, status):
        assert_one_language(page.text, Language.EN, names=names)
