"""The portal as an app in a real browser (Debian's Chromium, headless) against ``mimamori serve``:
the manifest as Chromium reads it, the service worker registered and active over the whole site,
the subscribe script run under the page's CSP against Chromium's real PushManager, and a push
delivered to the worker (DevTools' ServiceWorker.deliverPushMessage) shown as a notification.

Chromium here reaches no push service (its FCM needs Google's servers), so subscribe() itself
fails: the page must then say so in the guardian's language.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from playwright.async_api import Browser, expect

from tests.portal.axe import axe_violations
from tests.portal.conftest import GUARDIAN_PASSWORD, Family

pytestmark = pytest.mark.slow


@pytest.fixture
def app_server(start_server, mail_sink) -> str:
    return start_server(
        env={
            "MIMAMORI_SMTP__HOST": "127.0.0.1",
            "MIMAMORI_SMTP__PORT": str(mail_sink.port),
            "MIMAMORI_WEBPUSH__SUBJECT": "mailto:board@city.example.jp",
        }
    )


async def test_the_portal_installs_as_an_app_whose_worker_shows_a_push(
    app_server: str, chromium: Browser, family: Family
) -> None:
    context = await chromium.new_context(locale="ja-JP")
    await context.grant_permissions(["notifications"], origin=app_server)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    await page.goto(f"{app_server}/login")
    await page.locator('input[name="login_id"]').fill(family.guardian.login_id)
    await page.locator('input[name="password"]').fill(GUARDIAN_PASSWORD)
    await page.locator('main form button[type="submit"]').click()
    await expect(page).to_have_url(f"{app_server}/home")

    await page.goto(f"{app_server}/addresses")
    button = page.get_by_role("button", name="この端末に通知")
    await expect(button).to_be_visible()  # the script ran: the form is shown only by it
    assert await axe_violations(page) == []

    devtools = await context.new_cdp_session(page)
    manifest = await devtools.send("Page.getAppManifest")
    assert manifest["errors"] == [] and json.loads(manifest["data"])["name"] == "見守り"
    # ready resolves once a worker is active, which may still be "activating": wait for it to finish
    worker = await page.evaluate(
        """navigator.serviceWorker.ready.then(r => r.active.state === "activated" ? r : new Promise(done =>
            r.active.addEventListener("statechange", () => r.active.state === "activated" && done(r))))
        .then(r => ({scope: r.scope, state: r.active.state}))"""
    )
    assert worker == {"scope": f"{app_server}/", "state": "activated"}

    await button.click()  # Chromium's real PushManager: no push service reachable from here
    await expect(page.locator("#webpush-problem")).to_have_text(
        "このブラウザでは通知をオンにできませんでした。もう一度試すか、別のブラウザをお使いください。"
    )
    assert await axe_violations(page) == []

    registration = await _registration_id(devtools)
    shown = {"title": "【見守り】花子さん 登校 7:58", "body": "花子さんが登校しました。", "url": "/home", "tag": "t1"}
    await devtools.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": f"{app_server}/", "registrationId": registration, "data": json.dumps(shown)},
    )
    notifications = await page.evaluate(
        """async () => {
            const r = await navigator.serviceWorker.ready;
            for (let i = 0; i < 50; i++) {
                const found = await r.getNotifications();
                if (found.length) return found.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}));
                await new Promise(done => setTimeout(done, 100));
            }
            return [];
        }"""
    )
    assert notifications == [{"title": shown["title"], "body": shown["body"], "tag": "t1", "url": "/home"}]
    assert refused == []
    await context.close()


async def _registration_id(devtools) -> str:
    """The worker's registration as DevTools names it (told on ``ServiceWorker.enable``)."""
    told = asyncio.get_running_loop().create_future()
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: e["registrations"] and not told.done() and told.set_result(e["registrations"][0]["registrationId"]),
    )
    await devtools.send("ServiceWorker.enable")
    return await asyncio.wait_for(told, 30)
