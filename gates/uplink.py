"""Sending the spool to the centre, oldest first, one entry at a time, until it is acknowledged.

201 and 200 (already had it) both acknowledge. A 4xx about the entry will never change, so the
entry moves to the spool's ``rejected`` table (counted in the heartbeat). 401, 403 and 404 say the
gate's key or address is wrong and 408 and 429 say "later": every entry would get the same, so
those, like a refused connection, a timeout or a 5xx, keep the entry at the head of the queue and
retry after a growing, jittered delay. Order matters (a pupil's passages decide each other's
direction), so the head is not overtaken lightly: once it has failed ``STUCK_AFTER`` times in a
row, each failure of it that reached the centre (an answer, or a timeout after the request was
sent) is followed by one try of the next entry, and only if the centre takes that one does the
head move behind the newer entries. When the centre cannot be reached nothing is tried past the
head, and when it answers 5xx to everything the next entry fails too: nothing overtakes anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
from dataclasses import dataclass
from enum import Enum

import httpx
from pydantic import ValidationError

from core.event_loop import wait_any
from core.wire import EVENT_PART, HEARTBEAT_PATH, PASSAGES_PATH, PHOTO_PART, Heartbeat, PassageEvent
from gates.config import ServerConfig
from gates.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0
STUCK_AFTER = 5
_SAME_FOR_EVERY_ENTRY = {401, 403, 404, 408, 429}


class Sent(Enum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    RETRY = "retry"
    MOVED_BEHIND = "moved behind"  # the centre takes newer entries, not this one


def judge(status: int) -> Sent:
    """What an answer from the centre means for the entry sent."""
    if status in (200, 201):
        return Sent.ACKNOWLEDGED
    if 400 <= status < 500 and status not in _SAME_FOR_EVERY_ENTRY:
        return Sent.REJECTED
    return Sent.RETRY


@dataclass(frozen=True)
class Attempt:
    result: Sent
    detail: str = ""
    reached: bool = True  # the centre got the request (false: no connection, so not the entry's fault)


def http_client(config: ServerConfig) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    if config.ca_file is not None:
        verify = ssl.create_default_context(cafile=str(config.ca_file))
    return httpx.AsyncClient(
        base_url=config.url.rstrip("/"),
        headers={"Authorization": f"Bearer {config.gate_key.get_secret_value()}"},
        timeout=config.timeout,
        verify=verify,
    )


class Uplink:
    def __init__(self, config: ServerConfig, spool: Spool, client: httpx.AsyncClient) -> None:
        self._config = config
        self._spool = spool
        self._client = client
        self._wake = asyncio.Event()
        self.last_error: str | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        delay = RETRY_FIRST
        while not stop.is_set():
            head = await asyncio.to_thread(self._spool.oldest)
            if head is None:
                await wait_any(stop, self._wake)
                self._wake.clear()
                continue
            attempt = await self._next_round(head)
            if attempt.result is Sent.RETRY:
                self.last_error = attempt.detail
                log.warning("uplink: %s; retrying in %.1f s", attempt.detail, delay)
                await wait_any(stop, timeout=delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._config.retry_max_seconds)
            elif attempt.result is Sent.MOVED_BEHIND:
                self.last_error = attempt.detail
            else:
                delay, self.last_error = RETRY_FIRST, None

    async def _next_round(self, head: SpoolEntry) -> Attempt:
        """Send the head; if it is stuck, also the entry behind it (see the module's rule)."""
        attempt = await self._settle(head)
        if attempt.result is not Sent.RETRY or not attempt.reached or head.attempts + 1 < STUCK_AFTER:
            return attempt
        newer = await asyncio.to_thread(self._spool.next_after, head.seq)
        if newer is None or (await self._settle(newer)).result is not Sent.ACKNOWLEDGED:
            return attempt
        await asyncio.to_thread(self._spool.move_behind, head.seq)
        log.error(
            "uplink: passage %s moved behind newer ones after %d failures: %s",
            head.event_id,
            head.attempts + 1,
            attempt.detail,
        )
        return Attempt(Sent.MOVED_BEHIND, attempt.detail)

    async def _settle(self, entry: SpoolEntry) -> Attempt:
        """Send one entry and write down in the spool what became of it."""
        try:
            attempt = await self.send(entry)
        except Exception as exc:  # a bug must not stop the uplink for good
            log.exception("uplink: sending passage %s failed", entry.event_id)
            attempt = Attempt(Sent.RETRY, f"{type(exc).__name__}: {exc}")
        if attempt.result is Sent.ACKNOWLEDGED:
            await asyncio.to_thread(self._spool.acknowledged, entry.seq)
        elif attempt.result is Sent.REJECTED:
            log.error("uplink: the centre refused passage %s for good: %s", entry.event_id, attempt.detail)
            await asyncio.to_thread(self._spool.reject, entry.seq, attempt.detail)
        else:
            await asyncio.to_thread(self._spool.failed, entry.seq, attempt.detail)
        return attempt

    async def send(self, entry: SpoolEntry) -> Attempt:
        try:
            event = PassageEvent(
                event_id=entry.event_id,
                tag=entry.tag,
                seen_at=entry.seen_at,
                reader=entry.reader,
                photo_missing=entry.photo_missing[:300] if entry.photo_missing else None,
            )
        except ValidationError as exc:
            return Attempt(Sent.REJECTED, f"not a valid passage: {exc.errors()[0]['msg']}")
        files: dict[str, tuple[str | None, bytes | str, str]] = {
            EVENT_PART: (None, event.model_dump_json(), "application/json"),
        }
        if entry.photo is not None:
            files[PHOTO_PART] = ("still.jpg", entry.photo, "image/jpeg")
        try:
            response = await self._client.post(PASSAGES_PATH, files=files)
        except httpx.HTTPError as exc:
            reached = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            return Attempt(Sent.RETRY, f"the centre is unreachable: {type(exc).__name__}: {exc}", reached)
        if response.status_code in (200, 201):
            return Attempt(Sent.ACKNOWLEDGED)
        detail = f"HTTP {response.status_code}: {_problem(response)}"
        return Attempt(judge(response.status_code), detail)

    async def heartbeat(self, beat: Heartbeat) -> bool:
        try:
            response = await self._client.post(
                HEARTBEAT_PATH, content=beat.model_dump_json(), headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            log.warning("heartbeat: the centre is unreachable: %s", exc)
            return False
        if response.status_code >= 300:
            log.warning("heartbeat: HTTP %s: %s", response.status_code, _problem(response))
        return response.status_code < 300


def _problem(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except (json.JSONDecodeError, AttributeError):
        return response.text[:200]
