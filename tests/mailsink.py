"""A real SMTP server for tests (aiosmtpd): keeps every message, and can be told to refuse (the next
RCPTs for a recipient, or all of them: a remote MX that knows the mailbox is gone), to answer 421
to every recipient, or to hang in the middle of DATA (``mode``), or to take only so many
recipients a second at some domains (``throttle``); stopped, it refuses connections. Every RCPT is
noted with its wall-clock time (``attempts``), so tests can measure how retries were spaced."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from tests.net import free_port


@dataclass(frozen=True)
class Attempt:
    at: float  # time.time() of the RCPT
    recipient: str
    reply: str


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    greeting: str = ""  # the name the client gave in EHLO (or HELO)

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default)  # type: ignore[return-value]

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        reply = self.sink._next_reply(address) or self.sink._over_rate(address)
        if reply is None and self.sink.mode == "421":
            reply = "421 4.3.2 Service not available, closing transmission channel"
        self.sink._note(address, reply or "250 OK")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        [first, *_] = envelope.rcpt_tos
        with self.sink._in_data(first):
            return await self._data(session, envelope, first)

    async def _data(self, session, envelope, first: str) -> str:  # noqa: ANN001
        if self.sink.mode == "hang":
            # the message has come, the reply never does; the client gives up, and a server that
            # never answered has not taken the message
            while self.sink.mode == "hang":
                await asyncio.sleep(0.05)
            return "451 4.3.0 Session ended without a reply"
        stall = self.sink._next_reply(f"data:{first}")
        if stall is not None and stall.startswith("stall "):
            await asyncio.sleep(float(stall.split()[1]))
        elif stall is not None:
            return stall
        with self.sink._lock:
            self.sink.received.append(
                ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content), session.host_name)
            )
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[ReceivedMail] = []
        self.attempts: list[Attempt] = []
        self.mode = "accept"  # or "421" (to every RCPT) or "hang" (after DATA, until changed)
        self._replies: dict[str, list[str]] = {}
        self._refusals: dict[str, str] = {}
        self._lock = threading.Lock()
        self._rates: dict[str, float] = {}  # domain -> RCPTs accepted a second, then 421
        self._windows: dict[str, tuple[int, int]] = {}  # domain's group -> (second, accepted in it)
        self._groups: dict[str, str] = {}  # domain -> the group counted with it
        self.in_data: Counter[str] = Counter()  # by domain: messages in DATA now
        self.most_in_data: Counter[str] = Counter()  # by domain: the most ever in DATA at once
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def answer(self, recipient: str, *replies: str) -> None:
        """Answer the next RCPTs for ``recipient`` with these replies (then accept)."""
        self._replies.setdefault(recipient.lower(), []).extend(replies)

    def refuse(self, recipient: str, reply: str) -> None:
        """Answer every RCPT for ``recipient`` with ``reply`` (after the replies given by ``answer``)."""
        self._refusals[recipient.lower()] = reply

    def answer_message(self, recipient: str, *replies: str) -> None:
        """Answer the next messages for ``recipient`` (after their DATA) with these replies;
        "stall SECONDS" answers nothing for that long, then accepts."""
        self._replies.setdefault(f"data:{recipient.lower()}", []).extend(replies)

    def throttle(self, domains: tuple[str, ...], per_second: int) -> None:
        """Accept ``per_second`` RCPTs a second to these domains together, then answer 421 (as a
        carrier's MX or a relay's rate limit does) until the next second."""
        for domain in domains:
            self._rates[domain] = per_second
            self._groups[domain] = domains[0]

    def _over_rate(self, address: str) -> str | None:
        domain = address.rpartition("@")[2].lower()
        if domain not in self._rates:
            return None
        group, second = self._groups[domain], int(time.time())
        with self._lock:
            at, accepted = self._windows.get(group, (second, 0))
            accepted = accepted if at == second else 0
            if accepted >= self._rates[domain]:
                return "421 4.7.0 Try again later, closing connection"
            self._windows[group] = (second, accepted + 1)
        return None

    @contextmanager
    def _in_data(self, recipient: str) -> Iterator[None]:
        domain = recipient.rpartition("@")[2].lower()
        with self._lock:
            self.in_data[domain] += 1
            self.most_in_data[domain] = max(self.most_in_data[domain], self.in_data[domain])
        try:
            yield
        finally:
            with self._lock:
                self.in_data[domain] -= 1

    def _note(self, recipient: str, reply: str) -> None:
        with self._lock:
            self.attempts.append(Attempt(time.time(), recipient, reply))

    def attempts_to(self, recipient: str) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.recipient == recipient]

    def _next_reply(self, address: str) -> str | None:
        with self._lock:
            queue = self._replies.get(address.lower())
            return queue.pop(0) if queue else self._refusals.get(address.lower())

    def to(self, recipient: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self.received if recipient in m.rcpt_tos]

    def per_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(r for m in self.received for r in m.rcpt_tos)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} of {count} mails arrived")
            time.sleep(0.05)
