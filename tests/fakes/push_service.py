"""A small push service for tests (RFC 8030), and the browsers subscribed to it.

A ``Browser`` makes its subscription as a browser does (a P-256 key pair and a 16-byte auth
secret, for a given applicationServerKey); the service takes ``POST /push/<id>``, checks the
VAPID token (RFC 8292: ``vapid t=…, k=…``; the signature against ``k``, the audience is this
service's origin, the expiry within 24 hours, and ``k`` is the key the subscription was made
with), really decrypts the aes128gcm body (RFC 8291) with the browser's private key, and keeps
the notification. A test scripts answers: 404, 410, 413, 429 with Retry-After, 500.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt

from tests.fakes.server import LoopbackServer

MAX_BODY = 4096  # RFC 8030 §7.2: a push service must accept at least this, may refuse more (413)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's push subscription: what PushManager.subscribe() makes."""

    endpoint: str
    application_server_key: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """PushSubscription.toJSON()."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64(point), "auth": b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        return bytes(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@dataclass
class Push:
    """A push the service accepted, as the browser's service worker receives it."""

    endpoint: str
    notification: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakePushService(LoopbackServer):
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.pushes: list[Push] = []
        self.refused: list[tuple[int, str]] = []  # (status, why) of pushes the service refused by itself
        self._answers: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self._ids = itertools.count(1)

    def subscribe(self, application_server_key: str) -> Browser:
        """A browser subscribing with ``application_server_key`` (base64url, as the page gives it)."""
        browser = Browser(f"{self.url}/push/{next(self._ids)}", application_server_key)
        self.browsers[browser.endpoint] = browser
        return browser

    def answer(self, browser: Browser, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """The next ``times`` pushes to ``browser`` are answered ``status`` (after every check)."""
        self._answers[browser.endpoint].extend([(status, headers or {})] * times)

    def to(self, browser: Browser) -> list[Push]:
        return [p for p in self.pushes if p.endpoint == browser.endpoint]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/push/{id}", self._push)
        app.router.add_post("/bare/{id}", self._bare)

    async def _push(self, request: web.Request) -> web.Response:
        endpoint = f"{self.url}/push/{request.match_info['id']}"
        browser = self.browsers.get(endpoint)
        if browser is None:
            return self._refuse(404, "no such subscription")
        body = await request.read()
        if len(body) > MAX_BODY:
            return self._refuse(413, "payload too large")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return self._refuse(400, "not aes128gcm")
        if not request.headers.get("TTL", "").isdigit():
            return self._refuse(400, "no TTL")
        try:
            claims = self._vapid(request.headers.get("Authorization", ""), browser)
        except ValueError as exc:
            return self._refuse(403, str(exc))
        try:
            notification = json.loads(browser.decrypt(body))
        except Exception as exc:  # http_ece's errors, bad JSON: the browser would drop it
            return self._refuse(400, f"undecryptable: {type(exc).__name__}")
        if self._answers[endpoint]:
            status, headers = self._answers[endpoint].popleft()
            return web.Response(status=status, headers=headers)
        self.pushes.append(Push(endpoint, notification, dict(request.headers), claims))
        return web.Response(status=201, headers={"Location": f"{self.url}/message/{len(self.pushes)}"})

    async def _bare(self, request: web.Request) -> web.Response:
        """Takes any push without a check (the benchmark's baseline costs the service the same)."""
        await request.read()
        return web.Response(status=201)

    def _refuse(self, status: int, why: str) -> web.Response:
        self.refused.append((status, why))
        return web.Response(status=status, text=why)

    def _vapid(self, authorization: str, browser: Browser) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("no VAPID authorization")
        fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = fields.get("t", ""), fields.get("k", "")
        if key != browser.application_server_key:
            raise ValueError("signed with a key the subscription was not made with")
        try:
            claims: dict[str, Any] = jwt.decode(token, key)
        except InvalidSignature:
            raise ValueError("bad VAPID signature") from None
        if claims.get("aud") != self.url:
            raise ValueError(f"VAPID audience {claims.get('aud')!r} is not this service")
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            raise ValueError("VAPID token expired or lives over 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("VAPID sub is not a contact")
        return claims
