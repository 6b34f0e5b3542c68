"""What the operator sees of logins: JSON log lines with the request's id (also in the answer's
X-Request-ID), no login ID, searched name or path token in them, no line a client can make
long, and failed and throttled logins counted."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from core import metrics
from core.config import LoggingSettings
from core.logs import LONGEST, configure_logging, mask
from core.models import StaffRole
from tests.browser import Browser
from tests.net import free_port
from tests.portal.conftest import GUARDIAN_PASSWORD, log_in_guardian, log_in_staff, staff_account


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(LoggingSettings(format="json", level="DEBUG"))
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def _count(name: str, **labels: str) -> float:
    return metrics.RECORDED.get_sample_value(name, labels) or 0.0


async def test_failed_and_throttled_logins_are_counted(new_browser, family) -> None:
    browser = new_browser()
    await browser.get("/login")
    failed, throttled = (
        _count("mimamori_logins_failed_total", account="guardian"),
        _count("mimamori_logins_throttled_total", account="guardian"),
    )

    for _ in range(5):  # five free attempts, then the account is slowed down
        await browser.post("/login", {"login_id": family.guardian.login_id, "password": "nope-nope-nope"})
    await browser.post("/login", {"login_id": family.guardian.login_id, "password": "nope-nope-nope"})
    slowed = await browser.post("/login", {"login_id": family.guardian.login_id, "password": GUARDIAN_PASSWORD})

    assert slowed.status_code != 303  # not logged in while slowed down, even with the right password
    assert _count("mimamori_logins_failed_total", account="guardian") == failed + 5
    assert _count("mimamori_logins_throttled_total", account="guardian") == throttled + 2
    exposed = generate_latest(metrics.RECORDED).decode()
    assert family.guardian.login_id not in exposed


async def test_a_portal_request_logs_json_lines_with_its_id_and_no_personal_data(new_browser, family, json_log) -> None:
    browser = new_browser()
    await log_in_guardian(browser, family.guardian)
    answer = await browser.get("/photos/SECRET-PHOTO-TOKEN-1?next=/addresses")
    logging.getLogger("portal.test").warning(
        "guardian %s asked for /ack/SECRET-ACK-TOKEN from keiko@example.jp", family.guardian.id
    )

    request_id = answer.headers["x-request-id"]
    assert len(request_id) == 16
    events = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert events and all({"time", "level", "logger", "message"} <= set(e) for e in events)
    text = json_log.getvalue()
    for secret in ("SECRET-PHOTO-TOKEN-1", "SECRET-ACK-TOKEN", "keiko@example.jp", family.guardian.login_id):
        assert secret not in text
    assert "/ack/<token>" in text and "<address>" in text


def test_a_line_logged_about_a_delivery_carries_its_id(json_log) -> None:
    from core.logs import delivery_context

    with delivery_context(4711):
        logging.getLogger("mail.smtp").warning("the server hung up")
    logging.getLogger("mail.bounces").info("delivery bounced", extra={"delivery_id": 42})
    logging.getLogger("core").info("no delivery here")

    events = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert [e.get("delivery_id") for e in events] == [4711, 42, None]


async def test_every_line_of_one_request_carries_the_id_its_answer_shows(settings, json_log) -> None:
    import httpx
    from fastapi import APIRouter

    from portal.app import create_app

    router = APIRouter()

    @router.get("/test-logs")
    async def logs_twice() -> dict[str, str]:
        logging.getLogger("portal.test").info("first")
        logging.getLogger("core.test").info("second")
        return {}

    app = create_app(settings, extra_routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        mine = await client.get("/test-logs")
        given = await client.get("/test-logs", headers={"X-Request-ID": "proxy-req-12345678"})

    events = [json.loads(line) for line in json_log.getvalue().splitlines()]
    ours = [e for e in events if e["logger"] in ("portal.test", "core.test")]
    assert [e["request_id"] for e in ours] == [mine.headers["x-request-id"]] * 2 + ["proxy-req-12345678"] * 2
    assert given.headers["x-request-id"] == "proxy-req-12345678"


async def test_the_access_log_of_a_served_portal_holds_no_searched_name_no_token_and_no_long_path(
    app, passwords, family, json_log
) -> None:
    import asyncio

    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))  # as serve runs it
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            desk = Browser(client)
            await log_in_staff(desk, await staff_account(passwords, "desk", StaffRole.SUPPORT))
            found = await desk.get("/support", params={"name": "山田 花子"})  # the pupil, as a parent spells it
            assert f"/support/guardians/{family.guardian.id}" in found.text
            assert (await client.get("/ack/SECRET-ACK-TOKEN-1")).status_code == 404
            assert (await client.get("/" + "A" * 8000)).status_code == 404  # a client's junk
    finally:
        server.should_exit = True
        await serving

    access = [json.loads(line) for line in json_log.getvalue().splitlines() if '"uvicorn.access"' in line]
    assert len(access) >= 4 and any("GET /support?<query>" in e["message"] for e in access)
    text = json_log.getvalue()
    for secret in ("山田", "%E5%B1%B1%E7%94%B0", "SECRET-ACK-TOKEN-1", "A" * (LONGEST + 1)):
        assert secret not in text
    assert "/ack/<token>" in text


def test_a_traceback_does_not_echo_what_a_client_sent(json_log) -> None:
    sent = "山田 花子" + "x" * 100_000
    try:
        try:
            int(sent)
        except ValueError:
            raise KeyError(sent) from None
    except KeyError:
        logging.getLogger("portal.test").exception("the search failed")
    [event] = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert "KeyError" in event["exception"] and len(event["exception"]) < 2 * LONGEST + 500
    assert "x" * (LONGEST + 1) not in event["exception"]


def test_every_credential_in_a_portal_path_is_masked() -> None:
    """A path parameter is a numeric id, or a credential whose path is in ``CREDENTIAL_PATHS``."""
    import importlib
    import pkgutil

    import portal.routes

    paths = [
        route.path
        for info in pkgutil.iter_modules(portal.routes.__path__)
        for route in importlib.import_module(f"portal.routes.{info.name}").router.routes
    ]
    assert "/ack/{token}" in paths and "/support/guardians/{guardian_id}" in paths
    for path in paths:
        for name in re.findall(r"{(\w+)}", path):
            if not name.endswith("_id"):
                filled = re.sub(r"{\w+}", "SECRET-VALUE", path)
                assert "SECRET-VALUE" not in mask(filled), f"{path}: add it to core.logs.CREDENTIAL_PATHS"
