"""The demo's mail server and the pages that show what it kept.

An SMTP server on loopback (aiosmtpd, in its own thread) keeps every mail the demo sends, and
``/demo/...`` pages in the portal list them, so a newcomer opens a notice and follows its link as
a guardian would. The pages are mounted only by ``mimamori demo``: they need no login and show
every mail, and the current second-factor codes of the demo's staff accounts.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from core import totp
from mail.inbound import InboundMail, header_text, parse_mail
from portal.templating import page, templates_with

TEMPLATES = templates_with(Path(__file__).parent / "templates")
_URL = re.compile(r"https?://[^\s<>\"']+")
MAILBOX_REFRESH_SECONDS = 10


@dataclass(frozen=True)
class KeptMail:
    number: int
    received_at: datetime
    rcpt_tos: tuple[str, ...]
    mail: InboundMail  # read as the service reads incoming mail

    @property
    def subject(self) -> str:
        return self.mail.subject

    @property
    def sender(self) -> str:
        return header_text(self.mail.raw, "From")

    @property
    def text(self) -> str:
        return self.mail.text


@dataclass
class DemoMailbox:
    """Every mail sent to the demo's SMTP server, kept in memory until the demo ends."""

    _mails: list[KeptMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # aiosmtpd's hook
        with self._lock:
            self._mails.append(
                KeptMail(
                    len(self._mails) + 1,
                    datetime.now(UTC),
                    tuple(envelope.rcpt_tos),
                    parse_mail(cast(bytes, envelope.content)),  # bytes: the server does not decode_data
                )
            )
        return "250 Message accepted for delivery"

    def mails(self, to: str | None = None) -> list[KeptMail]:
        """Newest first; only those to ``to`` when given."""
        with self._lock:
            kept = list(self._mails)
        wanted = to.strip().lower() if to else None
        return [m for m in reversed(kept) if wanted is None or wanted in (r.lower() for r in m.rcpt_tos)]

    def mail(self, number: int) -> KeptMail | None:
        with self._lock:
            return self._mails[number - 1] if 0 < number <= len(self._mails) else None


@contextlib.contextmanager
def mail_server(mailbox: DemoMailbox, port: int) -> Iterator[None]:
    """The SMTP server on 127.0.0.1:``port`` (its own thread) that hands every mail to ``mailbox``."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def _with_links(text: str) -> Markup:
    """The mail's text, escaped, with its addresses made links a newcomer can click."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


TEMPLATES.env.filters["with_links"] = _with_links


def reloading(response: Response, seconds: int | None) -> Response:
    """Reloaded by the browser after ``seconds`` (the reader turned it on; a page that reloads itself
    unasked fails WCAG 2.2.1, axe's "meta-refresh")."""
    if seconds:
        response.headers["Refresh"] = str(seconds)
    return response


def demo_router(mailbox: DemoMailbox, second_factors: dict[str, str]) -> APIRouter:
    """``second_factors``: the TOTP secret of each demo staff login, to show its current code."""
    router = APIRouter(prefix="/demo")

    @router.get("/mailbox")
    async def mailbox_page(request: Request, to: str | None = None, refresh: str | None = None) -> Response:
        here = f"/demo/mailbox?to={quote(to, safe='@')}" if to else "/demo/mailbox"
        shown = page(
            request,
            "demo/mailbox.html",
            using=TEMPLATES,
            mails=mailbox.mails(to),
            to=to or "",
            here=here,
            refresh=refresh,
        )
        return reloading(shown, MAILBOX_REFRESH_SECONDS if refresh else None)

    @router.get("/mailbox/{number}")
    async def mail_page(request: Request, number: int) -> Response:
        mail = mailbox.mail(number)
        if mail is None:
            raise HTTPException(404)
        return page(request, "demo/mail.html", using=TEMPLATES, mail=mail)

    @router.get("/codes")
    async def codes_page(request: Request, refresh: str | None = None) -> Response:
        now = time.time()
        left = int(totp.STEP - now % totp.STEP)
        codes = [(login, totp.code_at(secret, now)) for login, secret in second_factors.items()]
        shown = page(
            request, "demo/codes.html", using=TEMPLATES, codes=codes, left=left, here="/demo/codes", refresh=refresh
        )
        return reloading(shown, left if refresh else None)

    return router
