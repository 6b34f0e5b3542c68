"""The email transport: aiosmtplib over a small pool of reused connections.

Errors are translated at the edge: a 4xx reply, a timeout or a refused connection is temporary
(a 421 or a 4.7.x rate limit also says "slower", which the address's lane heeds); a 5xx reply is
permanent (and, for the recipient, counts toward the address failing). After any
error that is not a clean refusal the connection is dropped, so a poisoned session cannot spoil
the messages after it.

Every mail is signed with DKIM when ``smtp.dkim`` is on (mail.dkim_signing), and a broadcast
carries its List-Unsubscribe (core.unsubscribe).

Every mail we send (notices and answers to incoming mail alike) goes through ``transfer``. It
writes the envelope with ``execute_command`` rather than ``sendmail``: sendmail parses each
address four times with ``email.utils`` (a quarter of the CPU of a send), while our addresses
are checked when registered and, here, once for what could break the command line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

from aiosmtplib import (
    SMTP,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPStatus,
)

from core.config import SmtpSettings, greeting_name
from core.delivery.transport import Outcome, Outgoing, PermanentFailure, Sent, TemporaryFailure, UnsubscribeLink
from core.logs import delivery_context
from core.models import Channel
from mail.addresses import message_id, return_path, unsubscribe_address
from mail.dkim_signing import signer_for
from mail.message import build_message
from mail.smtp_status import meaning, throttling

log = logging.getLogger(__name__)


class SmtpTransport:
    channel = Channel.EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self.concurrency = settings.connections
        self.rate_per_second = settings.rate_per_second
        self._domain = settings.from_address.rpartition("@")[2] or "localhost"
        self._signer = signer_for(settings)
        self._idle: asyncio.LifoQueue[SMTP] = asyncio.LifoQueue()
        for _ in range(settings.connections):
            self._idle.put_nowait(self._client())

    def _client(self) -> SMTP:
        return smtp_client(self._settings)

    async def send(self, message: Outgoing) -> Outcome:
        with delivery_context(message.delivery_id):  # on the log lines of this send
            return await self._send(message)

    async def _send(self, message: Outgoing) -> Outcome:
        mid = message_id(message.delivery_id, self._domain)
        envelope_from = (
            return_path(message.delivery_id, self._settings.bounce_domain)
            if self._settings.bounce_domain
            else self._settings.from_address
        )
        data = build_message(
            message.notice,
            to=message.address,
            from_address=self._settings.from_address,
            message_id=mid,
            date=datetime.now(UTC),
            in_reply_to=message.in_reply_to,
            list_unsubscribe=self._unsubscribe_uris(message.unsubscribe),
        )
        if self._signer is not None:
            data = self._signer.signature(data) + data
        client = await self._idle.get()
        try:
            if not client.is_connected:
                await client.connect()
            await transfer(client, envelope_from, message.address, data)
            return Sent(provider_id=mid)
        except SMTPRecipientRefused as exc:
            await _reset(client)
            return _classify(exc.code, exc.message, about_recipient=True)
        except SMTPSenderRefused as exc:
            _drop(client)
            return _classify(exc.code, exc.message, about="our sender, ")
        except SMTPResponseException as exc:
            _drop(client)
            return _classify(exc.code, exc.message)
        except ValueError:  # an address aiosmtplib will not put in an envelope (the error quotes it)
            return PermanentFailure("not a usable mail address", address_verdict="failing")
        except (TimeoutError, SMTPException, OSError) as exc:
            _drop(client)
            where = f"{self._settings.host}:{self._settings.port}"
            return TemporaryFailure(f"mail server {where} unreachable ({type(exc).__name__})")
        finally:
            self._idle.put_nowait(client)

    def _unsubscribe_uris(self, link: UnsubscribeLink | None) -> tuple[str, ...]:
        """A mailto to the bounce mailbox (with ``bounce_domain``), and the one-click page."""
        if link is None:
            return ()
        if not self._settings.bounce_domain:
            return (link.url,)
        return (f"mailto:{unsubscribe_address(link.token, self._settings.bounce_domain)}", link.url)

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                try:
                    await asyncio.wait_for(client.quit(), timeout=5)
                except (TimeoutError, SMTPException, OSError):
                    _drop(client)


DEFAULT_TIMEOUT = 30.0  # seconds for a reply, when the client was made without a timeout

# what would end an address on the command line or start another command (aiosmtplib's own check)
_UNSAFE_IN_ENVELOPE = re.compile(r'[\s<>"\x00-\x1f\x7f]')


async def transfer(client: SMTP, sender: str, recipient: str, data: bytes) -> None:
    """MAIL, RCPT and DATA for one recipient on a connected client; raises as ``sendmail`` does
    (ValueError for an address that cannot go in an envelope, TimeoutError after the client's
    timeout on any one reply).

    One ``asyncio.timeout`` is moved on for each reply: aiosmtplib's own timeout wraps every
    reply in ``wait_for``, which cost a tenth of the CPU of a send.
    """
    envelope = []
    for address in (sender, recipient):
        if not address or _UNSAFE_IN_ENVELOPE.search(address):
            raise ValueError(
                "an empty address, or one with spaces, brackets or control characters,"
                " cannot be put in an SMTP envelope"
            )  # not quoted: it is personal data
        envelope.append(b"<" + address.encode("ascii") + b">")
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except SMTPHeloError:
            await client.helo()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(None) as deadline:

        def reply_due() -> None:
            deadline.reschedule(loop.time() + (client.timeout or DEFAULT_TIMEOUT))

        reply_due()
        reply = await client.execute_command(b"MAIL", b"FROM:" + envelope[0], timeout=None)
        if reply.code != SMTPStatus.completed:
            raise SMTPSenderRefused(reply.code, reply.message, sender)
        reply_due()
        reply = await client.execute_command(b"RCPT", b"TO:" + envelope[1], timeout=None)
        if reply.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
            raise SMTPRecipientRefused(reply.code, reply.message, recipient)
        reply_due()
        if not _on_the_wire_as_is(data):
            await client.data(data, timeout=None)
            return
        reply = await client.execute_command(b"DATA", timeout=None)
        if reply.code != SMTPStatus.start_input:
            raise SMTPDataError(reply.code, reply.message)
        if client.protocol is None:
            raise SMTPServerDisconnected("the mail server closed the connection after DATA")
        reply_due()
        client.protocol.write(data + b".\r\n")
        reply = await client.protocol.read_response(timeout=None)
        if reply.code != SMTPStatus.completed:
            raise SMTPDataError(reply.code, reply.message)


def _on_the_wire_as_is(data: bytes) -> bool:
    """Whether ``data`` needs neither line endings mended nor dots doubled (RFC 5321 4.5.2), as
    ``build_message`` writes it: CRLF lines, none starting with a dot. Then it goes out as it
    is; aiosmtplib's ``data`` would make two regular-expression passes over it to check."""
    return (
        data.endswith(b"\r\n")
        and not data.startswith(b".")
        and b"\n." not in data
        and data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r")
    )


async def _reset(client: SMTP) -> None:
    """Clear a refused envelope so the connection can carry the next mail; drop it if it can't."""
    try:
        await client.rset()
    except (TimeoutError, SMTPException, OSError):
        _drop(client)


def smtp_client(s: SmtpSettings) -> SMTP:
    """An unconnected client for the configured mail server, greeting it with ``helo_name`` (a
    section built outside ``Settings`` has none: then an address literal, never "localhost")."""
    return SMTP(
        hostname=s.host,
        port=s.port,
        local_hostname=s.helo_name or greeting_name(""),
        username=s.username,
        password=s.password.get_secret_value() if s.password else None,
        use_tls=s.security == "tls",
        start_tls=s.security == "starttls",
        timeout=s.timeout_seconds,
    )


def _classify(code: int, reply: str, *, about_recipient: bool = False, about: str = "") -> Outcome:
    said = about + meaning(code, reply)  # never the reply's text: it may echo the address
    if 400 <= code < 500:
        return TemporaryFailure(f"mail server said: {said}", throttled=throttling(code, reply))
    return PermanentFailure(f"mail server refused: {said}", address_verdict="failing" if about_recipient else None)


def _drop(client: SMTP) -> None:
    if client.is_connected:
        client.close()
