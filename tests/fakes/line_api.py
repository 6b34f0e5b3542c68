"""A small LINE Messaging API server for tests: push, multicast, reply and the quota endpoints
in their real HTTP shapes, ``X-Line-Retry-Key`` honoured (409 for a key already accepted), a
monthly limit (429 ``You have reached your monthly limit.``), scripted failures. The SDK is
pointed at it by ``Configuration(host=...)``; ``webhook_body`` builds signed webhook calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import LoopbackServer

MULTICAST_LIMIT = 500


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    retry_key: str | None
    at: float = field(default_factory=time.monotonic)


class FakeLineApi(LoopbackServer):
    def __init__(self, access_token: str = "line-test-token", channel_secret: str = "line-test-secret") -> None:
        self.access_token = access_token
        self.channel_secret = channel_secret
        self.calls: list[Call] = []
        self.monthly_limit: int | None = None
        self.used = 0
        self._accepted: dict[str, str] = {}
        self._failures: dict[str, deque[tuple[int, dict[str, Any], dict[str, str]]]] = defaultdict(deque)
        self._ids = itertools.count(100000)

    # ---- scripting and reading ----------------------------------------------------------------

    def fail(
        self, endpoint: str, status: int, message: str, *, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next ``times`` calls to ``endpoint`` ("push", "multicast", "reply") fail."""
        self._failures[endpoint].extend([(status, {"message": message}, headers or {})] * times)

    def to(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(f"/message/{endpoint}")]

    def pushed_to(self, user: str) -> list[Call]:
        return [c for c in self.to("push") if c.body["to"] == user]

    def replies(self) -> list[Call]:
        return self.to("reply")

    def sign(self, body: bytes) -> str:
        return base64.b64encode(hmac.new(self.channel_secret.encode(), body, hashlib.sha256).digest()).decode()

    def webhook_body(self, *events: dict[str, Any]) -> bytes:
        return json.dumps({"destination": "Ubot", "events": list(events)}, ensure_ascii=False).encode()

    def text_event(
        self, user: str, text: str, *, event_id: str | None = None, redelivery: bool = False
    ) -> dict[str, Any]:
        return self._event(
            user,
            "message",
            event_id,
            redelivery,
            message={"id": str(next(self._ids)), "type": "text", "text": text, "quoteToken": "q"},
        )

    def postback_event(self, user: str, data: str) -> dict[str, Any]:
        return self._event(user, "postback", None, False, postback={"data": data})

    def follow_event(self, user: str, *, unfollow: bool = False) -> dict[str, Any]:
        event = self._event(user, "unfollow" if unfollow else "follow", None, False)
        if unfollow:
            event.pop("replyToken")
        else:
            event["follow"] = {"isUnblocked": False}
        return event

    def _event(self, user: str, kind: str, event_id: str | None, redelivery: bool, **extra: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
            "deliveryContext": {"isRedelivery": redelivery},
            "replyToken": uuid.uuid4().hex,
            **extra,
        }

    # ---- serving ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/bot/message/{endpoint}", self._send)
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._consumption)

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(
                401, "Authentication failed. Confirm that the access token in the authorization header is valid."
            )
        endpoint = request.match_info["endpoint"]
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "The request body has 1 error(s)")
        key = request.headers.get("X-Line-Retry-Key")
        self.calls.append(Call(request.path, body, key))
        if key is not None and key in self._accepted:
            return _error(409, "The retry key is already accepted", {"x-line-accepted-request-id": self._accepted[key]})
        if self._failures[endpoint]:
            status, payload, headers = self._failures[endpoint].popleft()
            return web.json_response(payload, status=status, headers=headers)
        recipients = body.get("to") if endpoint != "reply" else None
        if endpoint == "multicast" and not 1 <= len(recipients) <= MULTICAST_LIMIT:
            return _error(400, "The request body has 1 error(s)")
        count = 0 if recipients is None else len(recipients) if isinstance(recipients, list) else 1
        if self.monthly_limit is not None and self.used + count > self.monthly_limit:
            return _error(429, "You have reached your monthly limit.")
        self.used += count
        request_id = str(uuid.uuid4())
        if key is not None:
            self._accepted[key] = request_id
        headers = {"x-line-request-id": request_id}
        if endpoint == "multicast":
            return web.json_response({}, headers=headers)
        sent = [{"id": str(next(self._ids)), "quoteToken": "qt"} for _ in body.get("messages", [])]
        return web.json_response({"sentMessages": sent}, headers=headers)

    async def _quota(self, request: web.Request) -> web.Response:
        if self.monthly_limit is None:
            return web.json_response({"type": "none"})
        return web.json_response({"type": "limited", "value": self.monthly_limit})

    async def _consumption(self, request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": self.used})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=headers or {})
