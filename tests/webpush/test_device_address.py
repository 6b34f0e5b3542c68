"""A guardian adds "this device" on the addresses page, sees it, and removes it; the installable
app's manifest and service worker; the page's one script allowed by the CSP and nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from core.broadcasts.people import people
from core.config import Settings
from core.models import AddressStatus, Channel, ContactAddress, StaffAddress, StaffRole
from portal.app import create_app
from tests.browser import Browser
from tests.fakes.push_service import FakePushService
from tests.portal.conftest import Family, log_in_guardian, log_in_staff, staff_account
from tests.webpush.conftest import add_device, subscribed


@pytest.fixture
async def browser(push_settings: Settings) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=create_app(push_settings), client=("203.0.113.7", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client)


def _posted(phone_subscription: dict[str, object], key_id: str) -> dict[str, str]:
    return {"subscription": json.dumps(phone_subscription), "key_id": key_id}


async def test_a_guardian_adds_this_device_and_sees_it_by_its_push_service(
    database_url, family: Family, browser: Browser, push_service: FakePushService
) -> None:
    await log_in_guardian(browser, family.guardian)
    page = await browser.get("/addresses")
    assert "この端末に通知" in page.text and 'src="/static/webpush/subscribe.js"' in page.text
    key_id = page.text.split('name="key_id" value="', 1)[1].split('"', 1)[0]
    phone = subscribed(push_service)

    added = await browser.post("/addresses/webpush", _posted(phone.subscription(), key_id))

    assert added.status_code == 303 and added.headers["location"] == "/addresses?done=device"
    shown = await browser.get("/addresses?done=device")
    assert "この端末が登録されました" in shown.text
    assert "プッシュ通知: 127.0.0.1" in shown.text and phone.endpoint not in shown.text
    [device] = await ContactAddress.filter(guardian_id=family.guardian.id, channel=Channel.WEBPUSH)
    assert device.status is AddressStatus.ACTIVE and device.slot == 1
    assert json.loads(device.value)["vapid"] == key_id


async def test_a_third_address_is_refused_and_a_garbled_subscription_explained(
    database_url, family: Family, browser: Browser, push_service: FakePushService
) -> None:
    await log_in_guardian(browser, family.guardian)
    page = await browser.get("/addresses")
    key_id = page.text.split('name="key_id" value="', 1)[1].split('"', 1)[0]
    for _ in range(2):
        ok = await browser.post("/addresses/webpush", _posted(subscribed(push_service).subscription(), key_id))
        assert ok.status_code == 303

    full = await browser.get("/addresses")
    assert "この端末に通知" not in full.text  # at the limit, no form to add one
    third = await browser.post("/addresses/webpush", _posted(subscribed(push_service).subscription(), key_id))
    assert third.status_code == 400 and "2件まで" in third.text

    garbled = await browser.post("/addresses/webpush", {"subscription": '{"endpoint": "x"}', "key_id": key_id})
    assert garbled.status_code == 400 and "読み取れませんでした" in garbled.text
    assert await ContactAddress.filter(channel=Channel.WEBPUSH).count() == 2


async def test_the_app_manifest_service_worker_and_the_one_script_the_csp_allows(
    database_url, family: Family, browser: Browser
) -> None:
    manifest = await browser.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["name"] == "見守り" and manifest.json()["display"] == "standalone"
    worker = await browser.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript") and "showNotification" in worker.text
    for icon in manifest.json()["icons"]:
        assert (await browser.get(icon["src"])).status_code == 200

    await log_in_guardian(browser, family.guardian)
    page = await browser.get("/addresses")
    csp = page.headers["content-security-policy"]
    assert "script-src http://testserver/static/webpush/subscribe.js;" in csp
    assert "worker-src http://testserver/sw.js;" in csp and "'unsafe-inline'" not in csp
    assert "<script>" not in page.text
    home = await browser.get("/home")
    assert "script-src 'none'" in home.headers["content-security-policy"]
    assert '<link rel="manifest" href="/manifest.webmanifest">' in home.text


async def test_a_staff_member_adds_their_own_device_for_staff_notices(
    database_url, family: Family, browser: Browser, push_service: FakePushService, passwords
) -> None:
    teacher = await staff_account(passwords, "tanaka", StaffRole.STAFF, [family.site.name])
    await log_in_staff(browser, teacher)
    page = await browser.get("/staff/chat-link")
    assert (
        "この端末に通知" in page.text
        and "script-src http://testserver/static/webpush/subscribe.js;" in (page.headers["content-security-policy"])
    )
    key_id = page.text.split('name="key_id" value="', 1)[1].split('"', 1)[0]

    added = await browser.post("/staff/webpush", _posted(subscribed(push_service).subscription(), key_id))

    assert added.status_code == 303
    assert "この端末が登録されました" in (await browser.get(added.headers["location"])).text
    [device] = await StaffAddress.filter(staff_id=teacher.id, channel=Channel.WEBPUSH)
    assert device.verified_at is not None and json.loads(device.value)["vapid"] == key_id


async def test_staff_see_a_device_by_its_app_alone_never_its_subscription(
    database_url, family: Family, push_service: FakePushService, passwords
) -> None:
    device = await add_device(family.guardian.id, subscribed(push_service))
    teacher = await staff_account(passwords, "tanaka", StaffRole.STAFF, [family.site.name])

    [person] = (await people([family.guardian.id], viewer=teacher)).values()

    assert [(a.channel, a.shown) for a in person.addresses or ()] == [(Channel.WEBPUSH, "")]
    assert device.value not in repr(person)
