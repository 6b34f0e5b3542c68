"""A small Telegram Bot API server for tests: the real HTTP shapes (``POST /bot<token>/<method>``
with form or JSON parameters, ``{"ok": ..., "result": ...}`` answers, 429 with ``retry_after``,
403 for a blocked bot), recording every call. aiogram is pointed at it by its API server setting.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import LoopbackServer

BOT_USER = {"id": 1000, "is_bot": True, "first_name": "Mimamori", "username": "MimamoriBot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def chat(self) -> str:
        return str(self.params.get("chat_id"))


class FakeTelegramApi(LoopbackServer):
    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.blocked: set[str] = set()
        self._failures: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._closing = False

    # ---- scripting -------------------------------------------------------------------------

    def fail(
        self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures[method].extend([(status, body)] * times)

    def sent(self, method: str = "sendMessage", chat: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat is None or c.chat == str(chat))]

    def text_update(self, chat_id: int, text: str) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "恵子"}
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": user,
                "text": text,
            },
        }

    def button_update(self, chat_id: int, data: str) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "恵子"}
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids)),
                "from": user,
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "from": BOT_USER,
                    "text": "preview",
                },
            },
        }

    def queue_update(self, update: dict[str, Any]) -> None:
        """Offer ``update`` to long polling (getUpdates)."""
        self._updates.append(update)
        self._new_update.set()

    # ---- serving ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        if self._failures[method]:
            status, body = self._failures[method].popleft()
            return web.json_response(body, status=status)
        if "chat_id" in params and str(params["chat_id"]) in self.blocked:
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return web.json_response(body, status=403)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method in ("sendMessage", "sendPhoto"):
            return _ok(self._message(params, photo=method == "sendPhoto"))
        if method == "getMe":
            return _ok(BOT_USER)
        return _ok(True)  # setMyCommands, setWebhook, deleteWebhook, answerCallbackQuery, ...

    async def start(self):  # -> Self
        self._closing = False
        return await super().start()

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # long polls answer now rather than holding the shutdown
        await super().stop()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            ready = [u for u in self._updates if u["update_id"] >= offset]
            if ready or self._closing or time.monotonic() >= deadline:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                pass

    def _message(self, params: dict[str, Any], *, photo: bool) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT_USER,
        }
        if photo:
            message["photo"] = [{"file_id": "f1", "file_unique_id": "u1", "width": 640, "height": 480}]
            message["caption"] = params.get("caption", "")
        else:
            message["text"] = params.get("text", "")
        return message


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    params: dict[str, Any] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            params[name] = value.file.read()
            continue
        try:
            params[name] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            params[name] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})
