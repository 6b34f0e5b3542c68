"""Inbound-mail fixtures: a private Dovecot per test, settings pointing at it and at the test
SMTP server, and a way to run the poller in the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from core.config import Settings, load_settings
from core.delivery.outbox import enqueue
from core.models import ContactAddress, NoticeKind
from mail.imap_poller import ImapPoller
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mailsink import MailSink, ReceivedMail


@pytest.fixture
def inbound_settings(settings: Settings, imap_server: ImapServer, mail_sink: MailSink) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        imap={
            "host": "127.0.0.1",
            "port": imap_server.port,
            "username": imap_server.user,
            "password": imap_server.password,
            "done_folder": "Done",
            "alerts_address": "alerts@city.example.jp",
            "liveness_seconds": 2,
            "timeout_seconds": 5,
            "backoff_max_seconds": 1,
        },
        smtp={
            "host": "127.0.0.1",
            "port": mail_sink.port,
            "from_address": "mimamori@city.example.jp",
            "bounce_domain": "bounce.city.example.jp",
            "timeout_seconds": 5,
        },
        portal={"public_url": "https://mimamori.city.example.jp"},
        delivery={"failing_after": 2, "poll_seconds": 0.02},
    )


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until ``check`` holds (a deadline only against hanging, never a speed claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise TimeoutError("the condition never held")
        await asyncio.sleep(0.05)


class RunningPoller:
    def __init__(self, poller: ImapPoller) -> None:
        self.poller = poller
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(poller.run(self._stop))

    async def stop(self) -> None:
        if not self._task.done():
            self._stop.set()
            await asyncio.wait_for(self._task, timeout=30)


@pytest.fixture
async def start_poller() -> AsyncIterator[Callable[[ImapPoller], Awaitable[RunningPoller]]]:
    running: list[RunningPoller] = []

    async def start(poller: ImapPoller) -> RunningPoller:
        started = RunningPoller(poller)
        running.append(started)
        await eventually(poller.connected.is_set)
        return started

    yield start
    for started in running:
        await started.stop()


@pytest.fixture
async def inbox(inbound_settings: Settings, start_poller) -> AsyncIterator[RunningPoller]:
    """The mailbox being read as ``mimamori serve`` reads it: every handler, and a delivery
    worker beside it sending the answers (they are notices in the outbox)."""
    from core.delivery.worker import DeliveryWorker
    from core.models import Channel
    from mail.inbox import Inbox
    from mail.smtp import SmtpTransport

    handler = Inbox(inbound_settings)
    transport = SmtpTransport(inbound_settings.smtp)
    stop = asyncio.Event()
    sending = asyncio.create_task(DeliveryWorker(inbound_settings, {Channel.EMAIL: transport}).run(stop))
    try:
        yield await start_poller(ImapPoller(inbound_settings.imap, handler.handle, after_batch=handler.answers_queued))
    finally:
        stop.set()
        await asyncio.wait_for(sending, timeout=30)
        await transport.close()


async def send_queued(settings: Settings) -> None:
    """Run a delivery worker until the outbox is empty (mail goes to the SMTP sink)."""
    from core.delivery.worker import DeliveryWorker
    from core.models import Channel
    from mail.smtp import SmtpTransport

    transport = SmtpTransport(settings.smtp)
    try:
        await DeliveryWorker(settings, {Channel.EMAIL: transport}).drain(timeout=30)
    finally:
        await transport.close()


async def notices_to(
    value: str, count: int, settings: Settings, sink: MailSink
) -> tuple[ContactAddress, list[ReceivedMail]]:
    """A guardian whose only address is ``value``, ``count`` notices sent to it, and those of them
    that reached ``sink``."""
    guardian = await make_guardian(emails=[value])
    address = await ContactAddress.get(guardian_id=guardian.id)
    for n in range(count):
        await enqueue(
            kind=NoticeKind.ADDRESS_INACTIVE,
            fact=f"test-notice-{n}",
            address=address,
            payload={"inactive_channel": "line"},
        )
    await send_queued(settings)
    return address, sink.to(value)


def compose(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = "mimamori@city.example.jp",
    charset: str = "utf-8",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A mail as a phone would send it (``charset`` iso-2022-jp for old Japanese phones)."""
    from email.header import Header
    from email.utils import formataddr, parseaddr

    codec = {"iso-2022-jp": "iso2022_jp", "shift_jis": "cp932"}.get(charset, charset)
    head = {
        "From": formataddr(parseaddr(sender), charset=charset),
        "To": to,
        "Subject": Header(subject, charset).encode(),
        "Message-ID": f"<{abs(hash((sender, subject, body)))}@phone.example.jp>",
        "MIME-Version": "1.0",
        "Content-Type": f"text/plain; charset={charset}",
        "Content-Transfer-Encoding": "7bit" if charset == "iso-2022-jp" else "8bit",
        **(headers or {}),
    }
    lines = "".join(f"{name}: {value}\r\n" for name, value in head.items())
    return lines.encode("ascii") + b"\r\n" + body.replace("\n", "\r\n").encode(codec)


async def arrived(sink: MailSink, count: int) -> None:
    """Wait (without blocking the poller) until the SMTP sink holds ``count`` mails."""
    await eventually(lambda: len(sink.received) >= count)
