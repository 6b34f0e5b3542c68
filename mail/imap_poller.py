"""Reading one mailbox over IMAP (aioimaplib), each message handled exactly once.

The last UID handled (under the mailbox's UIDVALIDITY) is stored in the same transaction as
everything its handling wrote, so a crash or a reconnect neither repeats nor skips a message.
Handled messages are then flagged seen and moved to the done folder; one that was handled but not
yet moved (a crash in between) is only moved. Reads use ``BODY.PEEK[]``, which leaves flags alone.

Every IMAP call has a timeout. The poller waits in IDLE when the server offers it (renewed before
the 29 minutes servers allow), and when IDLE has been silent for ``liveness_seconds`` it ends it:
a server that does not answer DONE in time is taken for gone. A dropped connection wakes it at
once. It then reconnects with a growing, capped delay, so it is back within two minutes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aioimaplib import IMAP4, IMAP4_SSL, STOP_WAIT_SERVER_PUSH, AioImapException, Command, Response
from tortoise.transactions import in_transaction

from core import heartbeat, metrics
from core.config import ImapSettings
from core.models import MailboxState
from core.outage import is_database_outage
from core.rounds import describe

log = logging.getLogger(__name__)

Handle = Callable[[bytes, bool], Awaitable[None]]  # (the message, only its header was read)
AfterBatch = Callable[[], Awaitable[None]]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_CONNECTION_LOST = [b"mimamori: connection lost"]
HEARTBEAT_PART = "inbound"


class ImapError(Exception):
    """The server refused a command, or the connection broke."""


class ImapPoller:
    def __init__(self, settings: ImapSettings, handle: Handle, *, after_batch: AfterBatch | None = None) -> None:
        if not settings.host:
            raise ValueError("imap.host is not set")
        self._settings = settings
        self._handle = handle
        self._after_batch = after_batch
        self._key = f"{settings.username or ''}@{settings.host}/{settings.mailbox}"[:255]
        self.connected = asyncio.Event()  # set while a session is up (tests wait on it)
        self.handled = 0
        self.idles = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Read the mailbox until ``stop``; every failure ends in a reconnect, and a run of them
        in one log line (the first), with ``heartbeat`` telling readiness meanwhile."""
        delay = 1.0
        failing = False
        while not stop.is_set():
            try:
                await self._session(stop)
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the poller must outlive any one failure
                if self.connected.is_set():
                    delay, failing = 1.0, False  # the session had worked: a new run of failures
                heartbeat.round_failed(HEARTBEAT_PART, describe(exc))
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "IMAP %s:%s: %s; reconnecting in %.0f s (and again, quietly, until it works)",
                    self._settings.host,
                    self._settings.port,
                    _describe(exc),
                    delay,
                )
                failing = True
            finally:
                self.connected.clear()
                metrics.imap_connected(False)
            if stop.is_set():
                break
            await _sleep_unless(stop, delay)
            delay = min(delay * 2, self._settings.backoff_max_seconds)

    # ---- one session --------------------------------------------------------------------------

    async def _session(self, stop: asyncio.Event) -> None:
        client = await self._connect()
        try:
            selected = await self._ok(client.select(_quoted(self._settings.mailbox)), "SELECT")
            uidvalidity = _uidvalidity(selected)
            await self._ensure_done_folder(client)
            state = await self._state(uidvalidity)
            self.connected.set()
            metrics.imap_connected(True)
            heartbeat.round_done(HEARTBEAT_PART)
            log.info("reading mailbox %s (UIDVALIDITY %s, last UID %s)", self._key, uidvalidity, state.last_uid)
            while not stop.is_set():
                await self._drain(client, state)
                if self._after_batch is not None:
                    await self._after_batch()
                heartbeat.round_done(HEARTBEAT_PART)
                await self._wait_for_mail(client, stop)
        finally:
            await self._close(client)

    async def _connect(self) -> IMAP4:
        s = self._settings
        lost = self._on_connection_lost
        if s.security == "tls":
            client: IMAP4 = IMAP4_SSL(host=s.host, port=s.port, timeout=s.timeout_seconds)
            client.protocol.conn_lost_cb = lambda exc: lost(client, exc)
        else:
            client = IMAP4(
                host=s.host, port=s.port, timeout=s.timeout_seconds, conn_lost_cb=lambda exc: lost(client, exc)
            )
        try:
            await client.wait_hello_from_server()
            if s.security == "starttls":
                await self._starttls(client)
            password = s.password.get_secret_value() if s.password else ""
            await self._ok(client.login(s.username or "", password), "LOGIN")
        except BaseException:
            await self._close(client)
            raise
        return client

    async def _starttls(self, client: IMAP4) -> None:
        protocol = client.protocol
        await self._ok(protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)), "STARTTLS")
        transport = await self._call(
            asyncio.get_running_loop().start_tls(
                protocol.transport, protocol, ssl.create_default_context(), server_hostname=self._settings.host
            )
        )
        protocol.transport = transport
        await self._call(protocol.capability())

    @staticmethod
    def _on_connection_lost(client: IMAP4, exc: Exception | None) -> None:
        client.protocol.idle_queue.put_nowait(_CONNECTION_LOST)

    async def _state(self, uidvalidity: int) -> MailboxState:
        state, _ = await MailboxState.get_or_create(mailbox=self._key, defaults={"uidvalidity": uidvalidity})
        if state.uidvalidity != uidvalidity:
            log.warning(
                "mailbox %s has a new UIDVALIDITY (%s, was %s): its UIDs start afresh",
                self._key,
                uidvalidity,
                state.uidvalidity,
            )
            state.uidvalidity, state.last_uid = uidvalidity, 0
            await state.save(update_fields=["uidvalidity", "last_uid", "updated_at"])
        return state

    async def _ensure_done_folder(self, client: IMAP4) -> None:
        folder = _quoted(self._settings.done_folder)
        listed = await self._call(client.list('""', folder))
        if len(listed.lines) < 2:  # no LIST line before the completion text: it does not exist
            await self._ok(client.create(folder), "CREATE")

    # ---- handling -------------------------------------------------------------------------------

    async def _drain(self, client: IMAP4, state: MailboxState) -> None:
        """Handle every message in the mailbox, oldest first."""
        found = await self._ok(client.uid_search("ALL", charset=None), "SEARCH")
        for uid in _search_uids(found):
            if uid > state.last_uid:
                await self._handle_uid(client, state, uid)
            await self._file_away(client, uid)

    async def _handle_uid(self, client: IMAP4, state: MailboxState, uid: int) -> None:
        sized = await self._ok(client.uid("fetch", str(uid), "(RFC822.SIZE)"), "FETCH")
        size = _size(sized)
        truncated = size is not None and size > self._settings.max_message_bytes
        part = "BODY.PEEK[HEADER]" if truncated else "BODY.PEEK[]"
        data = _literal(await self._ok(client.uid("fetch", str(uid), f"({part})"), "FETCH"))
        if data is None:
            log.info("message UID %s vanished before it was read", uid)
            return
        if truncated:
            log.info("message UID %s has %s bytes: only its header is read", uid, size)
        try:
            async with in_transaction():
                if await self._advance(state, uid):
                    await self._handle(data, truncated)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the mailbox
            if is_database_outage(exc):
                raise  # the database is away: this message is read again after reconnecting
            log.exception("message UID %s in %s could not be handled: skipped", uid, self._key)
            async with in_transaction():
                await self._advance(state, uid)
        self.handled += 1

    async def _advance(self, state: MailboxState, uid: int) -> bool:
        """Move the stored position to ``uid``; False when another process handled it already."""
        current = await MailboxState.select_for_update().get(id=state.id)
        state.last_uid = max(state.last_uid, current.last_uid)
        if current.uidvalidity != state.uidvalidity or current.last_uid >= uid:
            return False
        current.last_uid = state.last_uid = uid
        await current.save(update_fields=["last_uid", "updated_at"])
        return True

    async def _file_away(self, client: IMAP4, uid: int) -> None:
        folder = _quoted(self._settings.done_folder)
        await self._ok(client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "STORE")
        if client.has_capability("MOVE"):
            await self._ok(client.uid("move", str(uid), folder), "MOVE")
            return
        await self._ok(client.uid("copy", str(uid), folder), "COPY")
        await self._ok(client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if client.has_capability("UIDPLUS"):
            await self._ok(client.uid("expunge", str(uid)), "EXPUNGE")
        else:
            await self._ok(client.expunge(), "EXPUNGE")

    # ---- waiting --------------------------------------------------------------------------------

    async def _wait_for_mail(self, client: IMAP4, stop: asyncio.Event) -> None:
        s = self._settings
        if not (s.idle and client.has_capability("IDLE")):
            await _sleep_unless(stop, s.poll_seconds)
            if not stop.is_set():
                await self._ok(client.noop(), "NOOP")
            return
        loop = asyncio.get_running_loop()
        renew_at = loop.time() + s.idle_renew_seconds
        _forget_stale_pushes(client)
        idle = await self._call(client.idle_start(timeout=s.idle_renew_seconds))
        self.idles += 1
        try:
            while not stop.is_set() and loop.time() < renew_at:
                lines = await _next_push(client, min(s.liveness_seconds, renew_at - loop.time()), stop)
                if lines is None or lines == STOP_WAIT_SERVER_PUSH:
                    break  # silent for a while, or time to renew: DONE proves the server is there
                if lines == _CONNECTION_LOST:
                    raise ImapError("the connection was closed")
                if any(b"EXISTS" in line for line in lines if isinstance(line, bytes)):
                    break
        except BaseException:
            idle.cancel()
            raise
        client.idle_done()
        await self._ok(idle, "IDLE")

    # ---- calls ----------------------------------------------------------------------------------

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(awaitable, timeout=self._settings.timeout_seconds)

    async def _ok(self, awaitable: Awaitable[Response], what: str) -> Response:
        response = await self._call(awaitable)
        if response.result != "OK":
            text = b" ".join(line for line in response.lines if isinstance(line, bytes))
            raise ImapError(f"{what} refused: {response.result} {text.decode(errors='replace')[:200]}")
        return response

    async def _close(self, client: IMAP4) -> None:
        protocol = client.protocol
        try:
            if protocol.transport is not None and not protocol.transport.is_closing():
                await asyncio.wait_for(client.logout(), timeout=min(5, self._settings.timeout_seconds))
        except (TimeoutError, AioImapException, OSError):
            pass
        finally:
            if protocol.transport is not None:
                protocol.transport.close()


def _forget_stale_pushes(client: IMAP4) -> None:
    """Drop what a finished IDLE left queued (a renewal signal would end the next one at once)."""
    queue = client.protocol.idle_queue
    while not queue.empty():
        if queue.get_nowait() == _CONNECTION_LOST:
            raise ImapError("the connection was closed")


async def _next_push(client: IMAP4, timeout: float, stop: asyncio.Event) -> list[Any] | None:
    """The next lines the server pushes during IDLE; None after ``timeout`` or on ``stop``."""
    push = asyncio.ensure_future(client.wait_server_push(timeout=max(timeout, 0.01)))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({push, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not push.done():
        push.cancel()
        return None
    try:
        lines: list[Any] = push.result()  # aioimaplib has no types
        return lines
    except TimeoutError:
        return None


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uidvalidity(response: Response) -> int:
    for line in response.lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    raise ImapError("the server named no UIDVALIDITY for the mailbox")


def _search_uids(response: Response) -> list[int]:
    uids: set[int] = set()
    for line in response.lines[:-1]:  # the last line is the completion text
        words = bytes(line).split()
        if words and words[0] == b"SEARCH":
            words = words[1:]
        if all(word.isdigit() for word in words):
            uids.update(int(word) for word in words)
    return sorted(uids)


def _size(response: Response) -> int | None:
    for line in response.lines:
        found = _SIZE.search(bytes(line))
        if found:
            return int(found.group(1))
    return None


def _literal(response: Response) -> bytes | None:
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__
