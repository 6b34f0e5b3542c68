"""The support desk helps a guardian; administrators set up sites, gates, staff and the roster."""

from __future__ import annotations

import base64
import re

from bot.conversation import Conversation, Incoming
from core import audit, throttle
from core.addresses import add_verified_address
from core.audit import verify_chain
from core.login import AccountKind, account_key
from core.models import AuditEntry, Channel, Gate, Guardian, Site, StaffAccount, StaffRole, Tag, TagStatus
from core.passwords import Passwords
from core.roster import guardian_key
from core.staff_links import issue_staff_link_code
from tests.factories import make_guardian, make_pupil
from tests.portal.conftest import GUARDIAN_PASSWORD, log_in_guardian, log_in_staff, staff_account

ROSTER = """school,grade,class,pupil_name,tag_id,guardian_name,guardian_ref,services,email1,email2
みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ictag+broadcast,keiko@example.jp,
さくら小学校,5,1,佐藤 陽翔,,佐藤 直樹,G002,broadcast,naoki@example.jp,
"""


async def test_the_desk_finds_a_guardian_by_login_id_by_name_and_by_class(
    new_browser, passwords: Passwords, family
) -> None:
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    href = f"/support/guardians/{family.guardian.id}"
    assert href in (await browser.get(f"/support?login_id={family.guardian.login_id.lower()}")).text
    assert href in (await browser.get("/support?name=山田　恵子")).text  # full-width space
    assert href in (await browser.get("/support?name=山田 花子")).text  # the pupil's name
    assert href in (await browser.get(f"/support?school={family.site.id}&grade=3&class_name=2")).text
    assert href not in (await browser.get(f"/support?school={family.site.id}&grade=4")).text
    assert "見つかりません" in (await browser.get("/support?name=山田 太郎")).text


async def test_the_desk_finds_a_name_typed_without_its_space_or_by_surname_alone(
    new_browser, passwords: Passwords, family
) -> None:
    await make_guardian("佐藤 直樹", pupils=[await make_pupil(family.site, "佐藤 陽翔")])
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    href = f"/support/guardians/{family.guardian.id}"
    assert href in (await browser.get("/support?name=山田恵子")).text  # the guardian, no space
    assert href in (await browser.get("/support?name=山田花子")).text  # the pupil, no space
    by_surname = await browser.get("/support?name=山田")
    assert href in by_surname.text and "佐藤" not in by_surname.text
    assert "佐藤 直樹" in (await browser.get("/support?name=佐藤")).text
    no_school = await browser.get("/support?grade=3&class_name=2")
    assert no_school.status_code == 400 and "学年・組で探すには学校を選んでください。" in no_school.text


async def test_the_desk_resets_a_password_shown_once_and_every_session_ends(
    new_browser, passwords: Passwords, family
) -> None:
    parent = new_browser()
    await log_in_guardian(parent, family.guardian)
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    await browser.get(f"/support/guardians/{family.guardian.id}")
    no_reason = await browser.post(f"/support/guardians/{family.guardian.id}/reset-password", {"reason": " \u200b"})
    assert no_reason.status_code == 400

    reset = await browser.post(
        f"/support/guardians/{family.guardian.id}/reset-password", {"reason": "電話で本人確認済み\u202e lost password"}
    )  # shown in the audit log as typed

    password = re.search(r'id="one-time-password">([^<]+)<', (await browser.get(reset.headers["location"])).text).group(
        1
    )
    assert (await parent.get("/home")).status_code == 303  # logged out everywhere
    assert (await log_in_guardian(new_browser(), family.guardian, GUARDIAN_PASSWORD)).status_code == 401
    again = await log_in_guardian(new_browser(), family.guardian, password)
    assert again.headers["location"].startswith("/password")
    entry = await AuditEntry.get(action="password.reset")
    assert entry.actor == "staff:desk" and entry.reason == "電話で本人確認済み lost password"
    assert password not in str(await AuditEntry.all().values_list("details", "reason"))


async def test_the_desk_unlocks_a_throttled_guardian(new_browser, passwords: Passwords, family) -> None:
    attacker = new_browser(client_host="192.0.2.66")
    for n in range(7):
        await log_in_guardian(attacker, family.guardian, f"guess-{n}")
    assert await throttle.wait_before_next(account_key(AccountKind.GUARDIAN, family.guardian.login_id))
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    before = await browser.get(f"/support/guardians/{family.guardian.id}")
    assert "ログインはあと約" in before.text  # the state, before the button
    done = await browser.post(f"/support/guardians/{family.guardian.id}/unlock", {"reason": "本人から電話"})
    after = await browser.get(done.headers["location"])
    assert "ログイン制限を解除しました。保護者はすぐにログインできます。" in after.text
    assert "ログインは制限されていません" in after.text
    assert (await log_in_guardian(new_browser(), family.guardian)).headers["location"] == "/home"


async def test_the_desk_marks_a_tag_lost_and_assigns_a_new_number(new_browser, passwords: Passwords, family) -> None:
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    await browser.get(f"/support/guardians/{family.guardian.id}")
    url = f"/support/guardians/{family.guardian.id}/pupils/{family.pupil.id}/replace-tag"
    assert (await browser.post(url, {"number": "9Z9Z", "reason": ""})).status_code == 400
    done = await browser.post(url, {"number": "9z9z-0001", "reason": "ランドセルごと紛失"})
    assert done.status_code == 303
    tags = {t.number: t.status for t in await Tag.filter(pupil=family.pupil)}
    assert tags == {"T-0001": TagStatus.LOST, "9Z9Z0001": TagStatus.ACTIVE}
    shown = (await browser.get(done.headers["location"])).text
    assert "9Z9Z0001 (使用中)" in shown and "T-0001 (紛失)" in shown
    assert "古いタグを紛失扱いにしました" in shown  # what it did


async def test_an_administrator_sets_up_a_site_a_gate_and_a_staff_account(new_browser, passwords: Passwords) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    await browser.get("/admin/sites")
    await browser.post("/admin/sites", {"name": "ひかり小学校", "kind": "school", "cutoff": "12:30"})
    site = await Site.get(name="ひかり小学校")
    await browser.get("/admin/sites")
    await browser.post(f"/admin/sites/{site.id}/cutoff", {"cutoff": "13:15"})
    assert (await Site.get(id=site.id)).cutoff.strftime("%H:%M") == "13:15"
    assert 'name="check_time" value="08:40"' in (await browser.get("/admin/sites")).text  # the default
    later = await browser.post(f"/admin/sites/{site.id}/check-time", {"check_time": "09:10"}, follow_redirects=True)
    assert "確認時刻を変更しました" in later.text and 'name="check_time" value="09:10"' in later.text
    assert (await Site.get(id=site.id)).check_time.strftime("%H:%M") == "09:10"
    refused = await browser.post(f"/admin/sites/{site.id}/check-time", {"check_time": "九時"})
    assert refused.status_code == 400 and "12:00" in refused.text
    assert await AuditEntry.filter(action="site.check_time").count() == 1

    await browser.get("/admin/gates")
    made = await browser.post("/admin/gates", {"site": "ひかり小学校", "name": "正門"})
    key = re.search(r'id="gate-key">([^<]+)<', made.text).group(1)
    from core.accounts import gate_key_hash

    gate = await Gate.get(key_hash=gate_key_hash(key))
    assert key not in (await browser.get("/admin/gates")).text
    await browser.post(f"/admin/gates/{gate.id}/revoke")
    assert (await Gate.get(id=gate.id)).revoked_at is not None

    await browser.get("/admin/staff")
    added = await browser.post("/admin/staff", {"login_id": "hikari-sensei", "role": "staff", "sites": "ひかり小学校"})
    assert re.search(r'id="one-time-password">([^<]+)<', added.text)
    teacher = await StaffAccount.get(login_id="hikari-sensei")
    assert [s.name for s in await teacher.sites.all()] == ["ひかり小学校"]
    await browser.post(f"/admin/staff/{teacher.id}/disable")
    assert (await StaffAccount.get(id=teacher.id)).disabled_at is not None


async def test_names_that_would_display_as_another_are_refused_at_every_admin_form(
    new_browser, passwords: Passwords
) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    await browser.get("/admin/sites")
    site = await browser.post("/admin/sites", {"name": "ひかり\u202e校学小", "kind": "school", "cutoff": "12:30"})
    assert site.status_code == 400 and "施設名に見えない文字または表示の向きを変える文字（U+202E）" in site.text
    await browser.post("/admin/sites", {"name": "ひかり小学校", "kind": "school", "cutoff": "12:30"})
    await browser.get("/admin/gates")
    gate = await browser.post("/admin/gates", {"site": "ひかり小学校", "name": "正\u200b門"})
    assert gate.status_code == 400 and "ゲート名に見えない文字" in gate.text and "(U+200B)" not in gate.text
    assert [s.name for s in await Site.all()] == ["ひかり小学校"] and await Gate.all().count() == 0

    await browser.get("/admin/roster")
    spoofed = ROSTER.replace("佐藤 直樹", "\u2067佐藤 直樹\u2069")
    upload = await browser.client.post(
        "/admin/roster",
        data={"csrf": await browser.csrf()},
        files={"roster": ("roster.csv", spoofed.encode(), "text/csv")},
    )
    assert (
        upload.status_code == 400
        and "3行目：保護者氏名に見えない文字" in upload.text
        and "U+2067, U+2069" in upload.text
    )
    assert await Guardian.all().count() == 0


async def test_an_administrator_imports_a_roster_by_upload(new_browser, passwords: Passwords) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    await browser.get("/admin/roster")
    response = await browser.client.post(
        "/admin/roster",
        data={"csrf": await browser.csrf()},
        files={"roster": ("roster.csv", ROSTER.encode("shift_jis"), "text/csv")},
    )
    assert response.status_code == 200 and "取り込みました" in response.text
    keiko = await Guardian.get(roster_ref_index=guardian_key("G001"))
    assert keiko.login_id in response.text and "<th>初期パスワード</th>" in response.text
    assert "保護者 2人を追加" in response.text and "addresses_added" not in response.text
    # the printable notices come with this answer only, a page per new guardian
    [link] = re.findall(
        r'<a class="button" href="data:text/html;charset=utf-8;base64,([^"]+)" '
        r'download="registration-notices.html">',
        response.text,
    )
    notices = base64.b64decode(link).decode("utf-8")
    guardians = await Guardian.all()
    assert notices.count('<section class="notice">') == len(guardians) > 1
    for guardian in guardians:
        assert f"{guardian.name} 様" in notices and guardian.login_id in notices
    credentials = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", response.text)
    assert all(f'<td class="secret">{password}</td>' in notices for _, password in credentials)
    assert notices.count('alt="登録用QRコード"') == len(guardians)
    bad = await browser.client.post(
        "/admin/roster",
        data={"csrf": await browser.csrf()},
        files={"roster": ("roster.csv", (ROSTER + "x,y\n").encode(), "text/csv")},
    )
    assert bad.status_code == 400 and "何も書き込んでいません" in bad.text


async def test_the_audit_log_can_be_filtered_and_its_chain_holds(new_browser, passwords: Passwords, family) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    await log_in_guardian(new_browser(), family.guardian, "wrong-password-here")
    browser = new_browser()
    await log_in_staff(browser, admin)
    everything = _actions(await browser.get("/admin/audit"))
    assert "ログイン失敗" in everything and "職員アカウントの追加" in everything
    only = _actions(await browser.get("/admin/audit?action=login."))
    assert "ログイン失敗" in only and "職員アカウントの追加" not in only
    checked, problems = await verify_chain()
    assert checked > 0 and problems == []


async def test_one_filter_finds_a_staff_member_on_the_portal_and_in_a_chat(
    new_browser, passwords: Passwords, family, settings
) -> None:
    tanaka = await staff_account(passwords, "tanaka", StaffRole.STAFF, [family.site.name])
    await log_in_staff(new_browser(), tanaka)  # on the portal
    chat = Conversation(settings)
    linked = await chat.respond(
        Incoming(Channel.LINE, "U-tanaka", text=f"連携 {await issue_staff_link_code(tanaka.id)}")
    )
    assert "tanaka" in linked.text  # through the bot
    await audit.record(f"staff:{tanaka.id}:line", "broadcast.confirm", target="broadcast:1")  # as entries were written
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)

    by_tanaka = [
        (f"職員 {tanaka.id}（LINE経由）", "緊急連絡の送信確定"),
        ("職員 tanaka", "ログイン"),
        ("職員 tanaka（LINE経由）", "チャットの連携"),
    ]
    for typed in ("staff:tanaka", f"staff:{tanaka.id}", "staff:tanaka:line"):  # as the log spells actors
        assert await _audit_rows(browser, typed) == by_tanaka, typed
    # a person, by login ID: what they did and what was done to them (their account made)
    assert await _audit_rows(browser, "tanaka") == sorted([*by_tanaka, ("test", "職員アカウントの追加")])


async def _audit_rows(browser, person: str) -> list[tuple[str, str]]:
    found = await browser.get("/admin/audit", params={"person": person})
    return sorted(re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", found.text))


def _actions(response) -> list[str]:
    return re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", response.text)


async def test_a_reload_of_the_new_password_shows_the_same_one_and_another_reset_asks_first(
    new_browser, passwords: Passwords, family
) -> None:
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    account = f"/support/guardians/{family.guardian.id}"
    await browser.get(account)
    reset = await browser.post(f"{account}/reset-password", {"reason": "電話で本人確認済み"})
    assert reset.status_code == 303  # POST, then a page that shows it
    shown = await browser.get(reset.headers["location"])
    password = re.search(r'id="one-time-password">([^<]+)<', shown.text).group(1)
    again = await browser.get(reset.headers["location"])  # the clerk reloads before printing
    assert f'id="one-time-password">{password}<' in again.text and again.headers["cache-control"] == "no-store"
    assert await AuditEntry.filter(action="password.reset").count() == 1
    assert (await log_in_guardian(new_browser(), family.guardian, password)).headers["location"].startswith("/password")

    other_desk = new_browser()  # another session never sees it
    await log_in_staff(other_desk, await staff_account(passwords, "desk2", StaffRole.SUPPORT))
    assert password not in (await other_desk.get(reset.headers["location"])).text

    await browser.get(account)
    asked = await browser.post(f"{account}/reset-password", {"reason": "もう一度"})
    assert asked.status_code == 200 and "仮パスワードをもう一度発行しますか？" in asked.text
    assert "印刷や送付が済んでいても、すぐに使えなくなります" in asked.text
    assert await AuditEntry.filter(action="password.reset").count() == 1  # nothing issued yet
    confirmed = await browser.post(f"{account}/reset-password", {"reason": "もう一度", "replacing": "1"})
    newer = re.search(r'id="one-time-password">([^<]+)<', (await browser.get(confirmed.headers["location"])).text)
    assert newer.group(1) != password and await AuditEntry.filter(action="password.reset").count() == 2


async def test_revoking_a_gate_and_disabling_or_resetting_staff_ask_on_a_page_then_say_what_they_did(
    new_browser, passwords: Passwords, family
) -> None:
    gate = await Gate.create(site=family.site, name="正門", key_hash="k" * 64)
    teacher = await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name])
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)

    gates = await browser.get("/admin/gates")
    assert f'href="/admin/gates/{gate.id}/revoke"' in gates.text and '/revoke"><input' not in gates.text
    asked = await browser.get(f"/admin/gates/{gate.id}/revoke")
    assert (
        "みどり小学校のゲート「正門」を無効にしますか？" in asked.text and "キーはすぐに使えなくなります" in asked.text
    )
    assert (await Gate.get(id=gate.id)).revoked_at is None  # asking changed nothing
    done = await browser.post(f"/admin/gates/{gate.id}/revoke")
    assert "ゲートを無効にしました" in (await browser.get(done.headers["location"])).text

    people = await browser.get("/admin/staff")
    assert f'href="/admin/staff/{teacher.id}/disable"' in people.text
    asked = await browser.get(f"/admin/staff/{teacher.id}/reset")
    assert "sensei のパスワードと二要素認証を再発行しますか？" in asked.text
    reset = await browser.post(f"/admin/staff/{teacher.id}/reset")
    assert (
        "sensei のパスワードと二要素認証をリセットしました。" in reset.text and 'id="one-time-password"' in reset.text
    )
    asked = await browser.get(f"/admin/staff/{teacher.id}/disable")
    assert "sensei を無効にしますか？" in asked.text and (await StaffAccount.get(id=teacher.id)).disabled_at is None
    done = await browser.post(f"/admin/staff/{teacher.id}/disable")
    assert (
        "アカウントを無効にし、すべての端末でログアウトさせました。"
        in (await browser.get(done.headers["location"])).text
    )
    assert (await browser.get(f"/admin/staff/{admin.id}/disable")).status_code == 409  # never one's own


async def test_the_roster_page_lists_its_columns_and_offers_a_template_in_both_encodings(
    new_browser, passwords: Passwords
) -> None:
    admin = await staff_account(passwords, "kanri", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    form = await browser.get("/admin/roster")
    assert "保護者番号" in form.text and "学校が保護者に付けた番号" in form.text
    bom = await browser.get("/admin/roster/template.csv?encoding=utf-8-sig")
    assert bom.content.startswith(b"\xef\xbb\xbf" + "学校,学年,組".encode())
    assert "attachment" in bom.headers["content-disposition"]
    sjis = await browser.get("/admin/roster/template.csv?encoding=cp932")
    assert sjis.content.startswith("学校,学年,組".encode("cp932"))


async def test_the_desk_removes_an_address_after_a_page_that_asks_with_a_reason(
    new_browser, passwords: Passwords, family
) -> None:
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "old@example.jp", limit=2)
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    remove = f"/support/guardians/{family.guardian.id}/addresses/{address.id}/remove"
    assert f'href="{remove}"' in (await browser.get(f"/support/guardians/{family.guardian.id}")).text
    asked = await browser.get(remove)
    assert "連絡先 old@example.jp を削除しますか？" in asked.text and 'name="reason"' in asked.text
    assert (await browser.post(remove, {"reason": ""})).status_code == 400
    done = await browser.post(remove, {"reason": "携帯を解約"})
    after = await browser.get(done.headers["location"])
    assert "連絡先を削除しました" in after.text and "old@example.jp" not in after.text
    entry = await AuditEntry.get(action="address.remove")
    assert entry.actor == "staff:desk" and entry.reason == "携帯を解約"
