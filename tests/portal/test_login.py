"""Logging in and out: sessions, the first password change, throttling, CSRF and headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import AuditEntry, Guardian, PortalSession
from core.passwords import Passwords
from core.sessions import ABSOLUTE, IDLE, find_session, open_session
from portal.deps import SESSION_COOKIE
from tests.portal.conftest import GUARDIAN_PASSWORD, log_in_guardian


async def test_a_guardian_logs_in_with_a_new_session_token_and_out_again(new_browser, family) -> None:
    browser = new_browser()
    browser.client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")

    response = await log_in_guardian(browser, family.guardian)

    assert response.status_code == 303 and response.headers["location"] == "/home"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    token = browser.client.cookies.get(SESSION_COOKIE)
    assert token != "planted-by-an-attacker" and len(token) >= 22  # 128 bits, url-safe
    assert not await PortalSession.filter(token_hash=token).exists()  # only its hash is stored
    home = await browser.get("/home")
    assert home.status_code == 200 and "お子さま" in home.text and "山田 花子" in home.text

    await browser.post("/logout")
    assert (await browser.get("/home")).headers["location"] == "/login?next=/home"


async def test_unknown_id_and_wrong_password_get_the_same_answer(new_browser, family) -> None:
    browser = new_browser()
    await browser.get("/login")
    wrong = await browser.post("/login", {"login_id": family.guardian.login_id, "password": "nope-nope-nope"})
    unknown = await browser.post("/login", {"login_id": "ZZZZ9999", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    message = '<p class="error" role="alert">ログインIDまたはパスワードが違います。</p>'
    assert message in wrong.text and message in unknown.text


async def test_the_first_login_forces_a_password_change_then_lands_on_the_link(
    new_browser, passwords: Passwords, family
) -> None:
    guardian = family.guardian
    issued, stored = passwords.issue_one_time()
    guardian.password_hash, guardian.must_change_password = stored, True
    await guardian.save()
    browser = new_browser()

    response = await browser.get("/addresses")
    assert response.headers["location"] == "/login?next=/addresses"
    response = await log_in_guardian(browser, guardian, issued.lower().replace("-", ""), next="/addresses")
    assert response.headers["location"] == "/password?next=/addresses"
    assert (await browser.get("/home")).headers["location"] == "/password?next=/home"
    await browser.get("/password")
    short = await browser.post(
        "/password", {"current": issued, "new": "short", "confirm": "short", "next": "/addresses"}
    )
    assert short.status_code == 400 and "10" in short.text
    changed = await browser.post(
        "/password",
        {
            "current": issued,
            "new": "my-own-secret-1",
            "confirm": "my-own-secret-1",
            "next": "/addresses",
        },
    )
    assert changed.headers["location"] == "/addresses"
    assert (await browser.get("/addresses")).status_code == 200
    guardian = await Guardian.get(id=guardian.id)
    assert not guardian.must_change_password and guardian.password_hash.startswith("$argon2id$")


async def test_a_password_change_ends_every_other_session(new_browser, family) -> None:
    phone, laptop = new_browser(), new_browser()
    await log_in_guardian(phone, family.guardian)
    await log_in_guardian(laptop, family.guardian)
    await laptop.refresh_csrf("/password")

    await laptop.post(
        "/password", {"current": GUARDIAN_PASSWORD, "new": "another-secret-2", "confirm": "another-secret-2"}
    )

    assert (await phone.get("/home")).status_code == 303
    assert (await laptop.get("/home")).status_code == 200


async def test_sessions_end_when_idle_or_too_old(family) -> None:
    now = datetime.now(UTC)
    opened = await open_session(guardian=family.guardian, now=now)
    assert await find_session(opened.token, now=now + IDLE - timedelta(minutes=1)) is not None
    assert await find_session(opened.token, now=now + IDLE + IDLE - timedelta(minutes=3)) is not None
    assert await find_session(opened.token, now=now + 3 * IDLE + timedelta(minutes=1)) is None  # idle

    busy = await open_session(guardian=family.guardian, now=now)
    moment = now
    while moment < now + ABSOLUTE - timedelta(minutes=20):
        moment += timedelta(minutes=20)
        assert await find_session(busy.token, now=moment) is not None
    assert await find_session(busy.token, now=now + ABSOLUTE + timedelta(minutes=1)) is None


async def _guess(browser, guardian, password: str) -> str:
    return (await browser.post("/login", {"login_id": guardian.login_id, "password": password})).text


async def test_a_stranger_who_knows_the_login_id_cannot_keep_the_family_out(
    new_browser, passwords: Passwords, family
) -> None:
    guardian = family.guardian
    issued, guardian.password_hash = passwords.issue_one_time()  # the letter has just arrived
    guardian.must_change_password = True
    await guardian.save()
    for n in range(30):  # failures from many addresses slow the account down to the cap
        stranger = new_browser(client_host=f"192.0.2.{100 + n}")
        await stranger.get("/login")
        assert "パスワードが違います" in await _guess(stranger, guardian, f"guess-{n}")
        second = await _guess(stranger, guardian, f"guess-{n}-again")
        assert n < 5 or "試行が多すぎます" in second  # then each address has one try per 30 s

    new_phone = new_browser(client_host="198.51.100.20")  # the family's first login: no device cookie
    response = await log_in_guardian(new_phone, guardian, issued)
    assert response.headers.get("location") == "/password?next=/home", response.text


async def test_guessing_is_slowed_down_from_one_address_and_from_many(new_browser, family) -> None:
    guardian = family.guardian
    phone = new_browser(client_host="198.51.100.20")
    await log_in_guardian(phone, guardian)  # earlier login: the phone holds a device cookie
    await phone.post("/logout")
    attacker = new_browser(client_host="192.0.2.66")
    await attacker.get("/login")
    answers = [await _guess(attacker, guardian, f"guess-{n}") for n in range(7)]
    assert "試行が多すぎます" in answers[-1]
    assert "試行が多すぎます" in await _guess(attacker, guardian, GUARDIAN_PASSWORD)

    helper = new_browser(client_host="2001:db8:5:7::1")  # another address: one slow-path try, then wait
    await helper.get("/login")
    tries = [await _guess(helper, guardian, f"guess-{n}") for n in (7, 8, 9)]
    assert "パスワードが違います" in tries[0] and "試行が多すぎます" in tries[2]  # the slowed account: one try
    neighbour = new_browser(client_host="2001:db8:5:7::2")  # the same IPv6 /64 is the same place
    await neighbour.get("/login")
    assert "試行が多すぎます" in await _guess(neighbour, guardian, GUARDIAN_PASSWORD)

    back = await log_in_guardian(phone, guardian)
    assert back.headers.get("location") == "/home", back.text


async def test_too_many_failures_from_one_address_are_slowed_down_across_accounts(new_browser, family) -> None:
    attacker = new_browser(client_host="192.0.2.77")
    await attacker.get("/login")
    for n in range(21):
        last = await attacker.post("/login", {"login_id": f"ZZZZ{n:04d}", "password": "guess"})
    assert "試行が多すぎます" in last.text


async def test_forms_without_the_csrf_token_are_refused(new_browser, family) -> None:
    browser = new_browser()
    await browser.get("/login")
    refused = await browser.post(
        "/login", {"login_id": family.guardian.login_id, "password": GUARDIAN_PASSWORD}, csrf=False
    )
    assert refused.status_code == 403
    forged = await browser.post(
        "/login", {"login_id": family.guardian.login_id, "password": GUARDIAN_PASSWORD, "csrf": "x" * 32}
    )
    assert forged.status_code == 403
    await log_in_guardian(browser, family.guardian)
    await browser.get("/preferences")
    assert (await browser.post("/preferences", {"paused": "1"}, csrf=False)).status_code == 403
    assert (await browser.post("/preferences", {"paused": "1"})).status_code == 200


async def test_every_page_carries_the_security_headers(new_browser, family) -> None:
    browser = new_browser()
    response = await browser.get("/login")
    headers = response.headers
    assert "script-src 'none'" in headers["content-security-policy"]
    assert "<script" not in response.text
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers

    tls = new_browser(base_url="https://testserver")
    response = await log_in_guardian(tls, family.guardian)
    assert "max-age=" in response.headers["strict-transport-security"]
    assert "Secure" in response.headers["set-cookie"]


async def test_failed_logins_to_a_real_account_are_audited(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian, "wrong-password")
    assert await AuditEntry.filter(action="login.failed", target=f"guardian:{family.guardian.id}").exists()


async def test_the_next_link_never_leaves_the_site(new_browser, family) -> None:
    browser = new_browser()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await log_in_guardian(browser, family.guardian, next=evil)
        assert response.headers["location"] == "/home"


async def test_abandoned_sessions_are_purged(family) -> None:
    now = datetime.now(UTC)
    await open_session(guardian=family.guardian, now=now - ABSOLUTE - timedelta(hours=1))
    await open_session(guardian=family.guardian, now=now)
    assert await PortalSession.filter(guardian=family.guardian).count() == 1


async def test_a_link_with_its_own_query_string_survives_the_login(new_browser, family) -> None:
    browser = new_browser()
    link = await browser.get("/home?tab=alerts&x=1")
    assert link.headers["location"] == "/login?next=/home%3Ftab%3Dalerts%26x%3D1"
    await browser.get(link.headers["location"])
    response = await log_in_guardian(browser, family.guardian, next="/home?tab=alerts&x=1")
    assert response.headers["location"] == "/home?tab=alerts&x=1"
    form = await new_browser().get(link.headers["location"])
    assert 'name="next" value="/home?tab=alerts&amp;x=1"' in form.text  # the form keeps it whole


async def test_a_browser_left_alone_for_half_an_hour_must_log_in_again(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    assert (await browser.get("/home")).status_code == 200
    await PortalSession.filter(guardian=family.guardian).update(
        last_seen_at=datetime.now(UTC) - IDLE - timedelta(seconds=1)
    )
    assert (await browser.get("/home")).headers["location"] == "/login?next=/home"
    assert not await PortalSession.filter(guardian=family.guardian).exists()
