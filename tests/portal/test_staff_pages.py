"""Staff: compose, preview, confirm and follow a broadcast; the passage log and gate health."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from core import sealing
from core.addresses import add_verified_address
from core.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    Gate,
    Language,
    Passage,
    PassageOutcome,
    StaffRole,
)
from core.passwords import Passwords
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import confirmed_broadcast, make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_staff, passage_with_photo, staff_account


async def test_staff_compose_preview_confirm_and_watch_the_counts(
    new_browser,
    settings,
    passwords: Passwords,
    family,
    deliver,
    mail_sink,
) -> None:
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    bounced = await make_guardian("鈴木 花", pupils=[family.pupil], emails=["nobody@example.jp"])
    mail_sink.answer("nobody@example.jp", "550 5.1.1 No such user")
    await make_guardian("田中 次郎", pupils=[family.pupil])  # no address at all
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)

    await browser.get("/staff/broadcasts")
    draft = await browser.post(
        "/staff/broadcasts",
        {
            "target": str(family.site.id),
            "category": "suspicious_person",
            "title": "不審者の目撃情報",
            "body": "正門付近で不審者が目撃されました。お迎えをお願いします。",
            "ack": "1",
        },
    )
    preview = await browser.get(draft.headers["location"])
    assert "送信先の保護者: <strong>3</strong>" in preview.text
    assert "【不審者情報】不審者の目撃情報" in preview.text and "正門付近で" in preview.text
    assert preview.text.count('class="preview') == 4  # email, LINE, Telegram, web push (everyone reads Japanese)
    email_html = await browser.get(draft.headers["location"] + "/email")
    assert "sandbox" in email_html.headers["content-security-policy"] and "正門付近で" in email_html.text
    assert not await Delivery.filter(broadcast_id__isnull=False).exists()  # nothing before the confirm

    confirmed = await browser.post(re.sub(r"/preview$", "/confirm", draft.headers["location"]))
    status_url = confirmed.headers["location"]
    live = await browser.get(status_url)
    assert 'http-equiv="refresh"' not in live.text and "refresh" not in live.headers  # only when asked
    assert "?refresh=30" in live.text
    from core.broadcasts import continue_fanouts

    await continue_fanouts(settings)
    await deliver()
    final = await browser.get(status_url)
    assert _count(final.text, "sent") == 1 and _count(final.text, "failed") == 1
    assert bounced.login_id in final.text and "連絡先の登録なし" in final.text
    resent = await browser.post(status_url + "/resend")
    assert "1件を再送しました。" in (await browser.get(resent.headers["location"])).text


def _count(html: str, name: str) -> int:
    return int(re.search(rf'id="count-{name}"><strong>(\d+)</strong>', html).group(1))


async def test_staff_cannot_send_outside_their_sites_nor_to_the_whole_city(
    new_browser, passwords: Passwords, family
) -> None:
    other_site = await make_site("ひかり小学校")
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    await browser.get("/staff/broadcasts")
    for target, said in (
        ("all", "全市への送信は管理者だけができます。"),
        (str(other_site.id), "担当の拠点ではありません"),
    ):
        refused = await browser.post(
            "/staff/broadcasts",
            {
                "target": target,
                "category": "general",
                "title": "t",
                "body": "b",
            },
        )
        assert refused.status_code == 400 and said in refused.text
    assert not await Broadcast.exists()

    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    boss = new_browser()
    await log_in_staff(boss, admin)
    await boss.get("/staff/broadcasts")
    made = await boss.post("/staff/broadcasts", {"target": "all", "category": "disaster", "title": "地震", "body": "b"})
    assert made.status_code == 303
    city_wide = await Broadcast.get()
    assert (await browser.get(f"/staff/broadcasts/{city_wide.id}/preview")).status_code == 404
    assert (await browser.post(f"/staff/broadcasts/{city_wide.id}/confirm")).status_code == 404
    assert (await Broadcast.get()).status is BroadcastStatus.DRAFT


async def test_the_passage_log_shows_the_staffs_sites_and_unknown_tags(
    new_browser, passwords: Passwords, family
) -> None:
    await passage_with_photo(family)
    gate = await Gate.get(site=family.site)
    await Passage.create(
        event_id=uuid.uuid4(),
        gate=gate,
        site=family.site,
        tag_number="X-9999",
        tag_number_index=sealing.installed().blind_index("tag", "X-9999"),
        seen_at=datetime.now(UTC),
        outcome=PassageOutcome.UNKNOWN_TAG,
    )
    elsewhere = await make_site("ひかり小学校")
    await make_pupil(elsewhere, "別の 子")
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)

    log = await browser.get("/staff/passages")
    assert "山田 花子" in log.text and "X-9999" in log.text and "不明なタグ" in log.text
    assert '<label>日付 <input type="date"' in log.text  # the date field has its label
    assert_one_language(log.text, Language.JA, names=["正門", "Telegram"])  # no "notified", "arrival"
    teacher.language = Language.EN
    await teacher.save()
    english = await browser.get("/staff/passages")
    assert "Unknown tag" in english.text and "Notified" in english.text and "Arrival" in english.text
    assert_one_language(english.text, Language.EN, names=["みどり小学校", "山田 花子", "正門"])
    teacher.language = Language.JA
    await teacher.save()
    problems = await browser.get("/staff/passages?problems=1")
    assert "X-9999" in problems.text and "山田 花子" not in problems.text


async def test_gate_health_shows_heartbeat_reader_camera_and_spool(new_browser, passwords: Passwords, family) -> None:
    await Gate.create(
        site=family.site,
        name="正門",
        key_hash="k" * 64,
        last_heartbeat_at=datetime.now(UTC),
        health={
            "reader_alive": True,
            "camera_alive": False,
            "camera_error": "no frames",
            "spool_depth": 17,
            "spool_rejected": 2,
        },
        down_since=datetime.now(UTC) - timedelta(minutes=5),
    )
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    page = await browser.get("/staff/gates")
    assert "正門" in page.text and "no frames" in page.text and "17" in page.text and "から停止中" in page.text
    assert "センターが受け付けず保留中: 2" in page.text


async def test_staff_of_another_site_see_neither_its_passages_nor_its_gates(
    new_browser, passwords: Passwords, family
) -> None:
    await passage_with_photo(family)
    await make_site("ひかり小学校")
    stranger = await staff_account(passwords, "hikari", StaffRole.STAFF, ["ひかり小学校"])
    browser = new_browser()
    await log_in_staff(browser, stranger)
    assert "山田 花子" not in (await browser.get("/staff/passages")).text
    assert "正門" not in (await browser.get("/staff/gates")).text


async def test_staff_get_a_chat_link_code_that_links_their_chat_once(new_browser, passwords: Passwords, family) -> None:
    from core.staff_links import link_chat

    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    assert "/staff/chat-link" in (await browser.get("/staff")).text

    issued = await browser.post("/staff/chat-link")
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    code = re.search(r"連携 ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", issued.text).group(1)
    assert "15" in issued.text

    linked = await link_chat(code, Channel.TELEGRAM, "777001")
    assert getattr(linked, "id", None) == teacher.id
    assert await link_chat(code, Channel.TELEGRAM, "777002") is None  # single use


async def test_the_preview_says_how_many_line_messages_an_alert_uses_and_how_many_remain(
    app, new_browser, passwords: Passwords, family
) -> None:
    from core.channels.line_quota import LineQuota

    await add_verified_address(family.guardian.id, Channel.LINE, "U" + "a" * 32, limit=2)

    async def quota() -> LineQuota:
        return LineQuota(limit=200, used=150)

    app.state.line_quota = quota
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    draft = await browser.post(
        "/staff/broadcasts",
        {
            "target": str(family.site.id),
            "category": "closure",
            "title": "臨時休校",
            "body": "本日は休校です。",
        },
    )
    preview = await browser.get(draft.headers["location"])
    assert "この連絡で 1 通、送信後の残り 49 通" in preview.text


async def test_the_start_page_shows_the_school_and_todays_counts(new_browser, passwords: Passwords, family) -> None:
    await passage_with_photo(family)
    await passage_with_photo(family)  # the same pupil twice: one pupil arrived
    await passage_with_photo(family, seen_at=datetime.now(UTC) - timedelta(days=2))  # not today
    await make_pupil(family.site, "山田 次郎", tag="1A00BEEF")  # a brother with a tag, not seen today
    await Gate.filter(site=family.site).update(down_since=datetime.now(UTC) - timedelta(minutes=9))
    await Gate.create(site=family.site, name="裏門", key_hash="u" * 64)  # up
    other = await make_site("ひかり小学校")
    await Gate.create(site=other, name="正門", key_hash="o" * 64, down_since=datetime.now(UTC))  # not theirs
    await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    alert = await confirmed_broadcast(family.site.name, title="不審者の目撃情報")
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)

    start = await browser.get("/staff")
    assert "<h1>みどり小学校</h1>" in start.text
    assert _count(start.text, "arrived") == 1 and _count(start.text, "gates-down") == 1
    assert _count(start.text, "alerts") == 1 and f'href="/staff/broadcasts/{alert}"' in start.text
    assert _count(start.text, "not-seen") == 1 and 'href="/staff/board?show=unseen"' in start.text
    assert_one_language(start.text, Language.JA, names=["sensei", "Telegram"])

    teacher.language = Language.EN
    await teacher.save()
    english = await browser.get("/staff")
    assert "arrived" in english.text and "alerts in progress" in english.text
    assert_one_language(english.text, Language.EN, names=["みどり小学校", "不審者の目撃情報"])

    newcomer = await staff_account(passwords, "shinnin", StaffRole.STAFF, [other.name])
    await newcomer.sites.clear()  # a site taken away: nothing counted, not the whole city's
    fresh = new_browser()
    await log_in_staff(fresh, newcomer)
    assert _count((await fresh.get("/staff")).text, "arrived") == 0
