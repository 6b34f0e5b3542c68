"""A body over its limit is answered 413 before it is read: a 200 MB post costs the portal at most
its limit in memory, whoever sends it and whether or not it says its length up front."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import pytest

from bot.line.adapter import line_webhook
from core.models import Language
from core.wire import HEARTBEAT_PATH
from portal.app import FORM_LIMIT, create_app
from tests.factories import make_gate, make_site
from tests.one_language import assert_one_language
from tests.portal.test_serve import _self_signed

TWO_HUNDRED_MB = 200 * 1024 * 1024
CHUNK = 1024 * 1024


class HugeUpload:
    """An ASGI client sending ``size`` bytes in 1 MiB chunks, counting what the app pulled."""

    def __init__(self, path: str, size: int, *, declare_length: bool, headers: Iterator = ()) -> None:
        self.path, self.size, self.pulled = path, size, 0
        length = [(b"content-length", str(size).encode())] if declare_length else []
        self.headers = [(b"host", b"portal"), *length, *headers]
        self.answer: list[dict] = []

    async def receive(self) -> dict:
        chunk = min(CHUNK, self.size - self.pulled)
        self.pulled += chunk
        return {"type": "http.request", "body": b"a" * chunk, "more_body": self.pulled < self.size}

    async def send(self, message: dict) -> None:
        self.answer.append(message)

    async def post_to(self, app) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "headers": self.headers,
            "client": ("203.0.113.7", 51000),
            "server": ("portal", 80),
        }
        await app(scope, self.receive, self.send)
        return self.answer[0]["status"]

    def header(self, name: bytes) -> bytes | None:
        return dict(self.answer[0]["headers"]).get(name)


@pytest.fixture
def app_with_line(settings):
    return create_app(settings, extra_routers=[line_webhook(None, "channel-secret")])  # refused before its dialogue


@pytest.mark.parametrize("declare_length", [True, False], ids=["with-content-length", "chunked"])
@pytest.mark.parametrize(
    ("path", "headers", "limit"),
    [
        ("/hooks/line", [(b"x-line-signature", b"bogus"), (b"content-type", b"application/json")], FORM_LIMIT),
        ("/login", [(b"content-type", b"application/x-www-form-urlencoded")], FORM_LIMIT),
        (HEARTBEAT_PATH, [(b"content-type", b"application/json")], 16 * 1024),
    ],
    ids=["line-webhook", "login-form", "heartbeat"],
)
async def test_a_200_mb_body_is_refused_413_having_read_no_more_than_its_limit(
    app_with_line, path, headers, limit, declare_length
) -> None:
    if path == HEARTBEAT_PATH:  # a gate's key: the heartbeat is read only once the gate is known
        _, key = await make_gate(await make_site())
        headers = [*headers, (b"authorization", f"Bearer {key}".encode())]
    upload = HugeUpload(path, TWO_HUNDRED_MB, declare_length=declare_length, headers=headers)
    assert await upload.post_to(app_with_line) == 413
    assert upload.pulled <= (0 if declare_length else limit + CHUNK)
    assert upload.header(b"x-frame-options") == b"DENY" and upload.header(b"cache-control") == b"no-store"


async def test_the_page_for_a_too_large_form_is_in_the_visitors_language(new_browser) -> None:
    browser = new_browser()
    await browser.get("/login")
    response = await browser.post("/login", {"login_id": "G001", "password": "x" * (FORM_LIMIT + 1)})
    assert response.status_code == 413
    assert "送信された内容が大きすぎます" in response.text and "content-security-policy" in response.headers
    assert_one_language(response.text, Language.JA)
    browser.client.cookies.set("mimamori_lang", "zh-Hans")
    in_chinese = await browser.post("/login", {"login_id": "G001", "password": "x" * (FORM_LIMIT + 1)})
    assert "您发送的内容太大。" in in_chinese.text
    assert_one_language(in_chinese.text, Language.ZH_HANS)


@pytest.mark.slow
async def test_serve_with_its_own_tls_answers_413_to_a_declared_200_mb_form_before_the_body_is_sent(
    start_server, tmp_path
) -> None:
    cert, key = _self_signed(tmp_path)
    url = start_server(
        scheme="https",
        env={
            "MIMAMORI_PORTAL__TLS_CERT": str(cert),
            "MIMAMORI_PORTAL__TLS_KEY": str(key),
        },
    )
    host, port = url.removeprefix("https://").split(":")
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=10) as raw, tls.wrap_socket(raw) as connection:
        connection.sendall(
            b"POST /login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {TWO_HUNDRED_MB}\r\n\r\n".encode()
            + b"login_id="
            + b"a" * 4096
        )
        answer = connection.recv(65536)  # nothing more is sent: the answer cannot wait for the body
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"x-frame-options: deny" in answer.lower()
