"""Portal fixtures: the app over ASGI, a browser-like client, and accounts with known passwords."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser as ChromiumBrowser
from playwright.async_api import async_playwright

from core import accounts, totp
from core.config import Settings
from core.models import Guardian, Pupil, Site, StaffAccount, StaffRole
from core.passwords import Passwords
from portal.app import create_app
from tests.browser import Browser
from tests.factories import make_guardian, make_pupil, make_site
from tests.mailsink import MailSink
from tests.portal.phone import CHROMIUM

GUARDIAN_PASSWORD = "sakura-mochi-2026"
STAFF_PASSWORD = "kyoshitsu-no-kagi-9"


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
async def new_browser(app) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    def make(base_url: str = "http://testserver", client_host: str = "203.0.113.7") -> Browser:
        transport = httpx.ASGITransport(app=app, client=(client_host, 51000))
        client = httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False)
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        await client.aclose()


@dataclass
class Family:
    site: Site
    pupil: Pupil
    guardian: Guardian


async def guardian_with_password(
    passwords: Passwords, *, pupils=(), must_change: bool = False, name: str = "山田 恵子"
) -> Guardian:
    guardian = await make_guardian(name, pupils=list(pupils))
    guardian.password_hash = passwords.hash(GUARDIAN_PASSWORD)
    guardian.must_change_password = must_change
    await guardian.save()
    return guardian


@pytest.fixture
async def family(passwords: Passwords) -> Family:
    site = await make_site()
    pupil = await make_pupil(site, tag="T-0001")
    return Family(site, pupil, await guardian_with_password(passwords, pupils=[pupil]))


async def staff_account(
    passwords: Passwords, login: str, role: StaffRole, sites: list[str] = (), *, enrolled: bool = True
) -> StaffAccount:
    issued = await accounts.add_staff(login, role, list(sites), passwords, actor="test")
    staff = await StaffAccount.get(id=issued.account_id)
    staff.password_hash = passwords.hash(STAFF_PASSWORD)
    staff.must_change_password = False
    if enrolled:
        staff.totp_secret = totp.new_secret()
        staff.totp_enrolled_at = staff.created_at
    await staff.save()
    return staff


async def log_in_guardian(
    browser: Browser, guardian: Guardian, password: str = GUARDIAN_PASSWORD, next: str = ""
) -> httpx.Response:
    await browser.get("/login")
    return await browser.post("/login", {"login_id": guardian.login_id, "password": password, "next": next})


def fresh_code(staff: StaffAccount, *, offset_steps: int = 0) -> str:
    return totp.code_at(staff.totp_secret, time.time() + offset_steps * totp.STEP)


async def log_in_staff(browser: Browser, staff: StaffAccount) -> None:
    await browser.get("/staff/login")
    response = await browser.post("/staff/login", {"login_id": staff.login_id, "password": STAFF_PASSWORD})
    assert response.status_code == 303, response.text
    await browser.get("/staff/totp")
    staff = await StaffAccount.get(id=staff.id)
    current = int(time.time() // totp.STEP)
    offset = 0 if staff.totp_last_step is None or staff.totp_last_step < current else 1
    response = await browser.post("/staff/totp", {"code": fresh_code(staff, offset_steps=offset)})
    assert response.status_code == 303, response.text
    await browser.refresh_csrf("/staff")


async def passage_with_photo(family: Family, *, seen_at=None, direction=None, days_to_keep: int = 30):
    """A passage of the family's pupil through a gate of their school, with its still."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from core import sealing
    from core.identifiers import new_token
    from core.models import Direction, Gate, Passage, PassageOutcome, Photo

    gate = await Gate.get_or_none(site=family.site) or await Gate.create(
        site=family.site, name="正門", key_hash=uuid.uuid4().hex
    )
    seen_at = seen_at or datetime.now(UTC)
    passage = await Passage.create(
        event_id=uuid.uuid4(),
        gate=gate,
        site=family.site,
        pupil=family.pupil,
        tag_number="T-0001",
        tag_number_index=sealing.installed().blind_index("tag", "T-0001"),
        seen_at=seen_at,
        direction=direction or Direction.ARRIVAL,
        outcome=PassageOutcome.NOTIFIED,
    )
    jpeg = _still()
    photo = await Photo.create(
        passage=passage,
        token=new_token(),
        jpeg=jpeg,
        size=len(jpeg),
        taken_at=seen_at,
        expires_at=seen_at + timedelta(days=days_to_keep),
    )
    return passage, photo


@pytest.fixture
def start_server(cli_env: dict[str, str], tmp_path):
    """Start ``mimamori serve`` as its own process on a free port; stopped after the test."""
    import signal
    import subprocess
    import sys

    from tests.net import free_port, wait_for_http

    processes: list[subprocess.Popen] = []

    def start(*args: str, scheme: str = "http", env: dict[str, str] | None = None) -> str:
        port = free_port()
        url = f"{scheme}://127.0.0.1:{port}"
        log = open(tmp_path / f"serve-{port}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "mimamori", "serve", *args],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**cli_env, "MIMAMORI_PORTAL__PORT": str(port), "MIMAMORI_PORTAL__PUBLIC_URL": url, **(env or {})},
        )
        processes.append(process)
        if scheme == "http":
            wait_for_http(f"{url}/healthz")
        else:
            _wait_for_tls(url)
        return url

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for_tls(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/healthz", verify=False, timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _still() -> bytes:
    """A real 320x240 JPEG: a school gate's grey with a bag-coloured block."""
    import cv2
    import numpy as np

    image = np.full((240, 320, 3), 180, dtype=np.uint8)
    image[80:200, 120:200] = (40, 40, 200)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


@pytest.fixture
async def chromium() -> AsyncIterator[ChromiumBrowser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
def server(start_server, mail_sink: MailSink) -> str:
    return start_server(
        env={
            "MIMAMORI_SMTP__HOST": "127.0.0.1",
            "MIMAMORI_SMTP__PORT": str(mail_sink.port),
            "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
        }
    )
