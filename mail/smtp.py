"""The email transport: aiosmtplib over a small pool of reused connections.

Errors are translated at the edge: a 4xx reply, a timeout or a refused connection is temporary;
a 5xx reply is permanent (and, for the recipient, counts toward the address failing). After any
error that is not a clean refusal the connection is dropped, so a poisoned session cannot spoil
the messages after it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiosmtplib import (
    SMTP,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)

from core.config import SmtpSettings
from core.delivery.transport import Outcome, Outgoing, PermanentFailure, Sent, TemporaryFailure
from core.models import Channel
from mail.addresses import message_id, return_path
from mail.message import build_message

log = logging.getLogger(__name__)


class SmtpTransport:
    channel = Channel.EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self.concurrency = settings.connections
        self.rate_per_second = settings.rate_per_second
        self._domain = settings.from_address.rpartition("@")[2] or "localhost"
        self._idle: asyncio.LifoQueue[SMTP] = asyncio.LifoQueue()
        for _ in range(settings.connections):
            self._idle.put_nowait(self._client())

    def _client(self) -> SMTP:
        return smtp_client(self._settings)

    async def send(self, message: Outgoing) -> Outcome:
        mid = message_id(message.delivery_id, self._domain)
        envelope_from = (
            return_path(message.delivery_id, self._settings.bounce_domain)
            if self._settings.bounce_domain
            else self._settings.from_address
        )
        data = build_message(
            message.notice, to=message.address, from_address=self._settings.from_address,
            message_id=mid, date=datetime.now(UTC),
        )
        client = await self._idle.get()
        try:
            if not client.is_connected:
                await client.connect()
            await client.sendmail(envelope_from, [message.address], data)
            return Sent(provider_id=mid)
        except SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            return _classify(refusal.code, refusal.message, about_recipient=True)
        except SMTPSenderRefused as exc:
            _drop(client)
            return _classify(exc.code, f"the mail server refused our sender: {exc.message}")
        except SMTPResponseException as exc:
            _drop(client)
            return _classify(exc.code, exc.message)
        except ValueError as exc:  # an address aiosmtplib will not put in an envelope
            return PermanentFailure(f"not a usable mail address: {exc}", address_verdict="failing")
        except (SMTPException, OSError, asyncio.TimeoutError) as exc:
            _drop(client)
            return TemporaryFailure(f"mail server {self._settings.host}:{self._settings.port} unreachable: {exc}")
        finally:
            self._idle.put_nowait(client)

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                try:
                    await asyncio.wait_for(client.quit(), timeout=5)
                except (SMTPException, OSError, asyncio.TimeoutError):
                    _drop(client)


def smtp_client(s: SmtpSettings) -> SMTP:
    """An unconnected client for the configured mail server."""
    return SMTP(
        hostname=s.host,
        port=s.port,
        username=s.username,
        password=s.password.get_secret_value() if s.password else None,
        use_tls=s.security == "tls",
        start_tls=s.security == "starttls",
        timeout=s.timeout_seconds,
    )


def _classify(code: int, reply: str, *, about_recipient: bool = False) -> Outcome:
    text = f"{code} {reply}".strip()
    if 400 <= code < 500:
        return TemporaryFailure(f"mail server said {text}")
    return PermanentFailure(
        f"mail server refused: {text}", address_verdict="failing" if about_recipient else None
    )


def _drop(client: SMTP) -> None:
    if client.is_connected:
        client.close()
