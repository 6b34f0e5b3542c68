"""Whatever a client sends, the answer is never a 500: over-long fields, huge ids, absurd dates and
unexpected failures end in a Japanese-first page (or a problem document) with the security headers."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import APIRouter

from core.models import Language, StaffRole
from core.passwords import Passwords
from portal.app import create_app
from tests.one_language import assert_one_language
from tests.portal.conftest import log_in_guardian, log_in_staff, staff_account

HUGE_ID = 2**63
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "cache-control")


def assert_refused(response: httpx.Response, *statuses: int) -> None:
    """A 4xx the user can read, carrying the headers every page carries."""
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    assert response.headers["cache-control"] == "no-store"


async def test_without_login_over_long_ids_and_tokens_are_refused_not_crashed(new_browser) -> None:
    browser = new_browser()
    await browser.get("/login")
    guardian = await browser.post("/login", {"login_id": "G" * 17, "password": "x"})
    assert_refused(guardian, 400)
    assert "入力内容を確認してください" in guardian.text
    assert_refused(await browser.post("/staff/login", {"login_id": "s" * 66, "password": "x"}), 400)
    assert_refused(await browser.get("/ack/" + "a" * 65), 404)
    assert_refused(await browser.post("/ack/" + "a" * 65), 404)
    assert_refused(await browser.get("/chat-photos/" + "a" * 5000), 404)
    assert_refused(await browser.get("/ack/%00"), 404)  # PostgreSQL text cannot hold a NUL
    assert_refused(await browser.post("/login", {"login_id": "G\x00", "password": "x"}), 400)
    for answer in ({"choice": "0\x00"}, {"choice": "0", "pupil": "1" * 101}, {"choice": "0", "note": "n" * 8001}):
        assert_refused(await browser.post("/ack/some-token", answer), 400)


async def test_a_guardian_asking_for_a_photo_by_a_long_token_gets_not_found(new_browser, family) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    assert_refused(await browser.get("/photos/" + "t" * 65), 404)
    assert_refused(await browser.get("/photos/" + "t" * 65 + "/image"), 404)
    assert_refused(await browser.post(f"/broadcasts/{HUGE_ID}/ack"), 404)
    assert_refused(await browser.get(f"/broadcasts/{HUGE_ID}/answer"), 404)
    assert_refused(await browser.post(f"/broadcasts/{HUGE_ID}/answer", {"choice": "0"}), 404)
    assert_refused(await browser.post(f"/addresses/{HUGE_ID}/remove"), 404)


async def test_the_support_desk_search_refuses_what_no_account_could_match(
    new_browser, passwords: Passwords, family
) -> None:
    desk = await staff_account(passwords, "desk", StaffRole.SUPPORT)
    browser = new_browser()
    await log_in_staff(browser, desk)
    assert_refused(await browser.get("/support?login_id=" + "G" * 17), 400)
    assert "見つかりません" in (await browser.get("/support?name=" + "山" * 300)).text  # no column: fine
    assert_refused(await browser.get("/support?name=" + "a" * 8001), 400)
    assert_refused(await browser.get(f"/support?school={family.site.id}&grade=²"), 400)
    assert_refused(await browser.get(f"/support?school={HUGE_ID}"), 400)
    assert_refused(await browser.get(f"/support?school={family.site.id}&class_name=" + "1" * 21), 400)
    assert_refused(await browser.get(f"/support/guardians/{HUGE_ID}"), 404)
    assert_refused(await browser.get(f"/support/guardians/{2**31}"), 404)  # an integer column on PostgreSQL
    ok = await browser.get(f"/support?school={family.site.id}&grade=3&class_name=2")
    assert ok.status_code == 200 and f"/support/guardians/{family.guardian.id}" in ok.text


async def test_staff_pages_refuse_huge_broadcast_ids_and_dates_out_of_range(
    new_browser, passwords: Passwords, family
) -> None:
    teacher = await staff_account(passwords, "teacher", StaffRole.STAFF, [family.site.name])
    browser = new_browser()
    await log_in_staff(browser, teacher)
    assert_refused(await browser.get(f"/staff/broadcasts/{HUGE_ID}"), 404)
    assert_refused(await browser.get(f"/staff/broadcasts/{HUGE_ID}/preview"), 404)
    assert_refused(await browser.post(f"/staff/broadcasts/{HUGE_ID}/confirm"), 404)
    await browser.get("/staff/broadcasts")
    overlong = await browser.post(
        "/staff/broadcasts", {"target": "校" * 101, "category": "general", "title": "t", "body": "b"}
    )
    assert_refused(overlong, 400)
    scoped = await browser.post(
        "/staff/broadcasts", {"target": "9" * 12, "category": "general", "title": "t", "body": "b"}
    )
    assert_refused(scoped, 400)
    assert "選んだ拠点がもうありません。選び直してください。" in scoped.text
    assert_refused(await browser.get("/staff/passages?day=0001-01-01"), 400)
    assert_refused(await browser.get("/staff/passages?day=9999-12-31"), 400)
    today = await browser.get("/staff/passages?day=")
    assert today.status_code == 200
    assert (await browser.get("/staff/passages?day=2026-04-08")).status_code == 200


async def test_admin_filters_and_names_over_their_column_length_are_refused(
    new_browser, passwords: Passwords, family
) -> None:
    admin = await staff_account(passwords, "chief", StaffRole.ADMIN)
    browser = new_browser()
    await log_in_staff(browser, admin)
    for field, length in (("action", 61), ("person", 81), ("target", 121)):
        assert_refused(await browser.get(f"/admin/audit?{field}=" + "a" * length), 400)
    assert_refused(await browser.get(f"/admin/audit?before={HUGE_ID}"), 400)
    assert_refused(await browser.get("/admin/audit?day=0001-01-01"), 400)
    await browser.get("/admin/sites")
    assert_refused(await browser.post("/admin/sites", {"name": "校" * 101}), 400)
    await browser.get("/admin/gates")
    assert_refused(await browser.post("/admin/gates", {"site": family.site.name, "name": "門" * 101}), 400)
    assert_refused(await browser.post("/admin/gates", {"site": "校" * 101, "name": "正門"}), 400)
    assert_refused(await browser.post(f"/admin/gates/{HUGE_ID}/revoke"), 404)
    assert_refused(await browser.post(f"/admin/sites/{HUGE_ID}/cutoff", {"cutoff": "12:00"}), 404)
    assert_refused(await browser.post(f"/admin/staff/{HUGE_ID}/disable"), 404)
    assert (await browser.get("/admin/audit?action=site&day=2026-04-08")).status_code == 200


def _failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-token-ABC123 " + "x" * 10_000)

    @router.get("/api/v1/boom")
    async def machine_boom() -> None:
        raise RuntimeError("secret-token-ABC123")

    return router


@pytest.fixture
async def failing_client(settings):
    transport = httpx.ASGITransport(app=create_app(settings, extra_routers=[_failing_router()]))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        yield client


async def test_an_unexpected_failure_answers_a_page_in_one_language_with_the_headers_and_logs_no_details(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        page = await failing_client.get("/boom")
        machine = await failing_client.get("/api/v1/boom")
    assert_refused(page, 500)
    assert page.text.lstrip().startswith("<!") and "申し訳ありません。処理中に問題が起きました。" in page.text
    assert_one_language(page.text, Language.JA)
    assert "secret-token" not in page.text
    assert_refused(machine, 500)
    assert machine.headers["content-type"] == "application/problem+json"
    assert "secret-token" not in machine.text
    lines = [r.getMessage() for r in caplog.records if "RuntimeError" in r.getMessage()]
    assert len(lines) == 2, [r.getMessage() for r in caplog.records]
    assert all("secret-token" not in line and len(line) < 300 for line in lines)
    assert all(not r.exc_info for r in caplog.records if "RuntimeError" in r.getMessage())
    failing_client.cookies.set("mimamori_lang", "vi")  # a visitor who chose Vietnamese
    in_vietnamese = await failing_client.get("/boom")
    assert "Xin lỗi, đã có sự cố từ phía chúng tôi." in in_vietnamese.text
    assert_one_language(in_vietnamese.text, Language.VI)


async def test_a_failing_session_look_up_is_answered_by_the_last_resort_with_the_headers(
    new_browser, family, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)

    async def broken(token: str | None) -> None:
        raise RuntimeError("the session store broke")

    monkeypatch.setattr("portal.deps.find_session", broken)
    response = await browser.get("/home")
    assert_refused(response, 500)
    assert "申し訳ありません" in response.text
