"""Sending the spool to the centre, oldest first, one entry at a time, until it is acknowledged.

201 and 200 (already had it) both acknowledge. 413 and 422 will never change, so the entry moves
to the spool's ``rejected`` table; anything else (a refused connection, a timeout, 401, 5xx)
keeps it at the head of the queue and retries after a growing, jittered delay.
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

from core.wire import EVENT_PART, HEARTBEAT_PATH, PASSAGES_PATH, PHOTO_PART, Heartbeat, PassageEvent
from gates.config import ServerConfig
from gates.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

RETRY_FIRST = 1.0
_FOR_GOOD = {413, 422}


class Sent(Enum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    RETRY = "retry"


@dataclass(frozen=True)
class Attempt:
    result: Sent
    detail: str = ""


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
            entry = await asyncio.to_thread(self._spool.oldest)
            if entry is None:
                await _wait_any(stop, self._wake)
                self._wake.clear()
                continue
            try:
                attempt = await self.send(entry)
            except Exception as exc:  # a bug must not stop the uplink for good
                log.exception("uplink: sending passage %s failed", entry.event_id)
                attempt = Attempt(Sent.RETRY, f"{type(exc).__name__}: {exc}")
            if attempt.result is Sent.ACKNOWLEDGED:
                await asyncio.to_thread(self._spool.acknowledged, entry.seq)
                delay, self.last_error = RETRY_FIRST, None
            elif attempt.result is Sent.REJECTED:
                log.error("uplink: the centre refused passage %s for good: %s", entry.event_id, attempt.detail)
                await asyncio.to_thread(self._spool.reject, entry.seq, attempt.detail)
            else:
                self.last_error = attempt.detail
                await asyncio.to_thread(self._spool.failed, entry.seq, attempt.detail)
                log.warning("uplink: %s; retrying in %.1f s", attempt.detail, delay)
                await _wait_any(stop, timeout=delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._config.retry_max_seconds)

    async def send(self, entry: SpoolEntry) -> Attempt:
        try:
            event = PassageEvent(
                event_id=entry.event_id, tag=entry.tag, seen_at=entry.seen_at, reader=entry.reader,
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
            return Attempt(Sent.RETRY, f"the centre is unreachable: {type(exc).__name__}: {exc}")
        if response.status_code in (200, 201):
            return Attempt(Sent.ACKNOWLEDGED)
        detail = f"HTTP {response.status_code}: {_problem(response)}"
        return Attempt(Sent.REJECTED if response.status_code in _FOR_GOOD else Sent.RETRY, detail)

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


async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
