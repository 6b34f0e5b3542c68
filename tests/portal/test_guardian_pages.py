"""A guardian's pages: home, photos from notice links, addresses, preferences, acknowledgements."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from core.config import Settings
from core.models import (
    AddressStatus,
    AuditEntry,
    BroadcastAnswer,
    BroadcastCategory,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    NoticeKind,
    PhotoView,
    StaffRole,
)
from core.passwords import Passwords
from core.preferences import holds_passage_notice
from core.registration import issue_link_code
from portal.deps import SESSION_COOKIE
from tests.factories import make_pupil
from tests.portal.conftest import (
    guardian_with_password,
    log_in_guardian,
    log_in_staff,
    passage_with_photo,
    staff_account,
)


async def test_home_shows_todays_passages_with_thumbnails_and_the_history(new_browser, family) -> None:
    _, today_photo = await passage_with_photo(family)
    await passage_with_photo(family, seen_at=datetime.now(UTC) - timedelta(days=3))
    await passage_with_photo(family, seen_at=datetime.now(UTC) - timedelta(days=40))
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    home = await browser.get("/home")

    today = home.text.split("今日の通過")[1].split("緊急連絡")[0]
    assert f"/photos/{today_photo.token}/image" in today and "登校" in today
    history = home.text.split("過去30日")[1]
    assert history.count("<tr>") == 2  # the header and the passage 3 days ago, not the one 40 days ago


async def test_a_notice_link_leads_through_login_to_the_photo_and_the_view_is_shown(new_browser, family) -> None:
    _, photo = await passage_with_photo(family)
    browser = new_browser()
    link = await browser.get(f"/photos/{photo.token}")
    assert link.headers["location"] == f"/login?next=/photos/{photo.token}"

    response = await log_in_guardian(browser, family.guardian, next=f"/photos/{photo.token}")
    page = await browser.get(response.headers["location"])

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<li>" in page.text and "— あなた</li>" in page.text and "に削除されます" in page.text
    image = await browser.get(f"/photos/{photo.token}/image")
    assert image.headers["content-type"] == "image/jpeg" and image.headers["cache-control"] == "no-store"
    assert image.content.startswith(b"\xff\xd8")
    assert await PhotoView.filter(photo=photo, guardian=family.guardian).count() == 1


async def test_another_guardian_gets_not_found_and_an_audit_entry(new_browser, passwords: Passwords, family) -> None:
    _, photo = await passage_with_photo(family)
    other_pupil = await make_pupil(family.site, "佐藤 一郎")
    stranger = await guardian_with_password(passwords, pupils=[other_pupil], name="佐藤 美咲")
    browser = new_browser()
    await log_in_guardian(browser, stranger)

    assert (await browser.get(f"/photos/{photo.token}")).status_code == 404
    assert (await browser.get(f"/photos/{photo.token}/image")).status_code == 404
    assert (await browser.get("/photos/no-such-token")).status_code == 404
    assert await AuditEntry.filter(action="photo.denied", actor=f"guardian:{stranger.id}").count() == 3
    assert not await PhotoView.filter(photo=photo).exists()


async def test_staff_of_the_site_may_open_it_and_the_guardian_sees_that(
    new_browser, passwords: Passwords, family
) -> None:
    _, photo = await passage_with_photo(family)
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    assert (await browser.get(f"/photos/{photo.token}")).status_code == 200
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    other = new_browser()
    await log_in_staff(other, desk)
    assert (await other.get(f"/photos/{photo.token}")).status_code == 404

    parent = new_browser()
    await log_in_guardian(parent, family.guardian)
    assert "学校職員（sensei）" in (await parent.get(f"/photos/{photo.token}")).text


async def test_an_expired_photo_is_gone(new_browser, family) -> None:
    _, photo = await passage_with_photo(family, seen_at=datetime.now(UTC) - timedelta(days=31))
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    assert (await browser.get(f"/photos/{photo.token}")).status_code == 404


async def test_an_address_added_counts_once_verified_by_its_link_and_can_be_removed(
    new_browser, settings: Settings, family
) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get("/addresses")
    turned = await browser.post("/addresses", {"email": "pj.elpmaxe@\u202eokiek"})  # shows as keiko@example.jp
    assert turned.status_code == 400 and "メールアドレスを確認してください" in turned.text
    added = await browser.post("/addresses", {"email": "keiko@example.jp"})
    assert "確認メールを送りました" in added.text
    assert "keiko@example.jp" in added.text.split("<h2>確認待ち</h2>")[1]
    notice = await Delivery.get(kind=NoticeKind.VERIFICATION)
    link = json.loads(notice.payload)["link"]
    path = "/verify/" + link.rsplit("/verify/", 1)[1]

    form = await browser.get(path)
    done = await browser.post("/verify", {"code": path.rsplit("/", 1)[1]})

    assert form.status_code == 200 and "登録しました" in done.text
    address = await ContactAddress.get(guardian=family.guardian)
    assert address.status is AddressStatus.ACTIVE and address.slot == 1
    await browser.post(f"/addresses/{address.id}/remove")
    assert not await ContactAddress.filter(guardian=family.guardian).exists()


async def test_never_more_than_two_addresses(new_browser, family) -> None:
    from core.addresses import add_verified_address

    for value in ("a@example.jp", "b@example.jp"):
        await add_verified_address(family.guardian.id, Channel.EMAIL, value, limit=2)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    page = await browser.get("/addresses")
    assert "メールを追加" not in page.text
    refused = await browser.post("/addresses", {"email": "c@example.jp"})
    assert refused.status_code == 400 and "登録できるのは2件までです" in refused.text


async def test_a_guardian_cannot_remove_someone_elses_address(new_browser, passwords: Passwords, family) -> None:
    from core.addresses import add_verified_address

    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "a@example.jp", limit=2)
    stranger = await guardian_with_password(passwords, name="佐藤 美咲")
    browser = new_browser()
    await log_in_guardian(browser, stranger)
    assert (await browser.post(f"/addresses/{address.id}/remove")).status_code == 404
    assert await ContactAddress.filter(id=address.id).exists()


async def test_a_chat_registration_code_is_shown_for_line_or_telegram(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    page = await browser.post("/addresses/chat-code")
    assert "見守りボット" in page.text and '<p class="otp">' in page.text


async def test_preferences_pause_and_quiet_hours_and_language(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get("/preferences")
    bad = await browser.post("/preferences", {"quiet_start": "21:00", "language": "ja"})
    assert bad.status_code == 400
    saved = await browser.post("/preferences", {"quiet_start": "21:00", "quiet_end": "06:30", "language": "en"})
    assert "Saved." in saved.text  # the language just chosen
    guardian = await Guardian.get(id=family.guardian.id)
    assert (guardian.quiet_start, guardian.quiet_end, guardian.language.value) == (time(21), time(6, 30), "en")
    late = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 22:00 in Tokyo
    noon = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert holds_passage_notice(guardian, late) and not holds_passage_notice(guardian, noon)
    await browser.post("/preferences", {"paused": "1", "language": "ja"})
    assert holds_passage_notice(await Guardian.get(id=family.guardian.id), noon)

    await browser.post("/preferences", {"language": "en"})  # messages made in Python follow the language too
    in_english = await browser.post("/preferences", {"quiet_start": "21:00", "language": "en"})
    assert '<p class="error" role="alert">Quiet hours need a start and an end.</p>' in in_english.text
    await browser.post("/preferences", {"language": "ja"})
    in_japanese = await browser.post("/preferences", {"quiet_start": "21:00", "language": "ja"})
    assert '<p class="error" role="alert">静かな時間は開始と終了の両方を入力してください。</p>' in in_japanese.text


async def test_photos_in_chat_is_ticked_and_unticked_and_leaves_the_rest_alone(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    form = await browser.get("/preferences")
    assert "チャットにも写真を送る" in form.text and "市のシステムの外" in form.text
    assert 'name="photos_in_chat" value="1" >' in form.text  # off until the guardian opts in
    await browser.post("/preferences", {"quiet_start": "21:00", "quiet_end": "06:30", "language": "en"})

    ticked = await browser.post(
        "/preferences",
        {
            "quiet_start": "21:00",
            "quiet_end": "06:30",
            "language": "en",
            "photos_in_chat": "1",
        },
    )

    assert 'name="photos_in_chat" value="1" checked>' in ticked.text
    assert 'name="photos_in_chat" value="1" checked>' in (await browser.get("/preferences")).text
    guardian = await Guardian.get(id=family.guardian.id)
    assert guardian.photos_in_chat
    assert (guardian.passages_paused, guardian.quiet_start, guardian.quiet_end, guardian.language.value) == (
        False,
        time(21),
        time(6, 30),
        "en",
    )
    await browser.post("/preferences", {"quiet_start": "21:00", "quiet_end": "06:30", "language": "en"})
    guardian = await Guardian.get(id=family.guardian.id)
    assert not guardian.photos_in_chat
    assert (guardian.quiet_start, guardian.quiet_end, guardian.language.value) == (time(21), time(6, 30), "en")
    changes = await AuditEntry.filter(action="preferences.photos_in_chat").order_by("id")
    assert [e.details for e in changes] == [
        {"photos_in_chat": True, "via": "portal"},
        {"photos_in_chat": False, "via": "portal"},
    ]


async def test_a_broadcast_is_acknowledged_from_home_or_from_its_link(
    new_browser, settings: Settings, passwords: Passwords, family
) -> None:
    from core import broadcasts
    from core.addresses import add_verified_address

    await add_verified_address(family.guardian.id, Channel.EMAIL, "a@example.jp", limit=2)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope(family.site.name),
        category=BroadcastCategory.CLOSURE,
        title="休校のお知らせ",
        body="明日は休校です。",
        ack_requested=True,
        actor="test",
    )
    await broadcasts.confirm(draft.id, by=None, actor="test")
    await broadcasts.continue_fanouts(settings)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    home = await browser.get("/home")
    assert "休校のお知らせ" in home.text and f"/broadcasts/{draft.id}/ack" in home.text
    await browser.post(f"/broadcasts/{draft.id}/ack")
    assert "確認済み" in (await browser.get("/home")).text

    await BroadcastAnswer.all().delete()
    delivery = await Delivery.get(broadcast_id=draft.id)
    anyone = new_browser()
    form = await anyone.get(f"/ack/{delivery.ack_token}")
    assert form.status_code == 200 and "明日は休校です" in form.text
    done = await anyone.post(f"/ack/{delivery.ack_token}")
    assert "確認を受け付けました" in done.text and await BroadcastAnswer.filter(broadcast_id=draft.id).count() == 1
    assert (await anyone.get("/ack/unknown")).status_code == 404


async def test_confirmation_mails_to_new_addresses_are_limited(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    await browser.get("/addresses")
    answers = []
    for n in range(6):
        response = await browser.post("/addresses", {"email": f"someone{n}@example.jp"})
        answers.append(response.status_code)
        if response.status_code == 200:
            await ContactAddress.filter(guardian=family.guardian).delete()  # stay under the limit
    assert answers[:5] == [200] * 5 and answers[5] == 429
    assert await Delivery.filter(kind=NoticeKind.VERIFICATION).count() == 5


async def test_a_failing_address_is_shown_to_its_guardian_as_not_reaching_them(new_browser, family) -> None:
    from core.addresses import add_verified_address

    await add_verified_address(family.guardian.id, Channel.EMAIL, "ok@example.jp", limit=2)
    failing = await add_verified_address(family.guardian.id, Channel.EMAIL, "gone@example.jp", limit=2)
    await ContactAddress.filter(id=failing.id).update(status=AddressStatus.FAILING)
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    page = (await browser.get("/addresses")).text
    assert page.count("届いていません") == 1
    assert page.index("gone@example.jp") < page.index("届いていません")


async def test_the_notices_qr_link_sends_a_stranger_to_log_in_and_the_guardian_on_to_register(
    new_browser, passwords: Passwords, family
) -> None:
    code = (await issue_link_code(family.guardian.id)).replace(" ", "")
    neighbour = await guardian_with_password(passwords, name="佐藤 直樹")
    neighbours_code = (await issue_link_code(neighbour.id)).replace(" ", "")

    stranger = new_browser()
    for tried in (code, "000011112222", "not-a-code"):  # a real code answers as a made-up one does
        answer = await stranger.get(f"/register/{tried}")
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next=/register/{tried}"
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")  # a code is no way in
    assert (await stranger.get("/home")).headers["location"] == "/login?next=/home"
    login_page = await stranger.get(f"/login?next=/register/{code}")
    assert "受け取り先の登録に進みます" in login_page.text and f'value="/register/{code}"' in login_page.text

    parent = new_browser()
    logged_in = await log_in_guardian(parent, family.guardian, next=f"/register/{code}")
    assert logged_in.headers["location"] == f"/register/{code}"
    page = await parent.get(f"/register/{code}")
    assert page.status_code == 200 and "受け取り先を登録してください" in page.text
    assert f'<p class="otp">{code}</p>' in page.text and 'name="email"' in page.text

    others = await parent.get(f"/register/{neighbours_code}")  # somebody else's letter
    assert others.status_code == 200 and "使用済みか、このアカウントのものではありません" in others.text
    assert neighbours_code not in others.text.replace(f"/register/{neighbours_code}", "")
    await parent.post("/addresses/chat-code")  # a new code: the printed one no longer works
    used = await parent.get(f"/register/{code}")
    assert (
        "使用済みか、このアカウントのものではありません" in used.text and f'<p class="otp">{code}</p>' not in used.text
    )


async def test_a_guardian_turns_the_not_seen_notices_off_and_on_again(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    form = await browser.get("/preferences")
    assert 'name="attendance_alerts" value="1" checked' in form.text  # on by default
    assert "学校の確認時刻までに登校が確認できないとき、知らせる" in form.text
    await browser.post("/preferences", {"language": "ja"})  # the box left unticked
    assert not (await Guardian.get(id=family.guardian.id)).wants_attendance_alerts
    again = await browser.post("/preferences", {"attendance_alerts": "1", "language": "ja"})
    assert 'name="attendance_alerts" value="1" checked' in again.text
    assert (await Guardian.get(id=family.guardian.id)).wants_attendance_alerts
    changes = await AuditEntry.filter(action="preferences.wants_attendance_alerts").values_list("details", flat=True)
    assert [c["wants_attendance_alerts"] for c in changes] == [False, True]
