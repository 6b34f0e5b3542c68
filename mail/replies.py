"""Answers to incoming mail: written with the handling of the mail, sent after it, never in a loop.

An answer is a row (``MailReply``) written in the same transaction that records the mail as
handled, so a crash neither loses it nor sends it twice; ``send_pending`` sends what is due.
Nothing automatic is ever answered (``Auto-Submitted``, ``Precedence``, ``List-Id``, bounces, our
own mail), and answers to one sender are rate limited: two autoresponders cannot ping-pong.
Texts live in mail/templates/replies/, Japanese first, then English.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from tortoise.expressions import Q

from core import throttle
from core.config import Settings
from core.delivery.reasons import at_rest
from core.delivery.render import RenderedNotice
from core.models import MailReply
from mail.inbound import InboundMail
from mail.message import build_message
from mail.smtp import smtp_client, transfer
from mail.smtp_status import meaning

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
KEEP = timedelta(days=30)
_RETRY_BASE = timedelta(seconds=30)


def may_answer(mail: InboundMail, settings: Settings) -> bool:
    """Whether ``mail`` may get an answer at all (the rate limit aside)."""
    if not mail.sender or mail.automatic or mail.is_report or mail.return_path == "":
        return False
    local = mail.sender.partition("@")[0]
    if local in {"mailer-daemon", "postmaster", "no-reply", "noreply"}:
        return False
    return not is_our_own(mail, settings)


def is_our_own(mail: InboundMail, settings: Settings) -> bool:
    ours = {settings.smtp.from_address.lower()}
    if settings.imap.alerts_address:
        ours.add(settings.imap.alerts_address.lower())
    if settings.imap.username and "@" in settings.imap.username:
        ours.add(settings.imap.username.lower())
    return mail.sender in ours or bool(mail.message_id and mail.message_id.startswith("<mimamori-"))


async def queue_answer(mail: InboundMail, template: str, settings: Settings, **context: Any) -> bool:
    """Queue the answer ``template`` to ``mail``'s sender; False when it must not be answered."""
    if not may_answer(mail, settings):
        log.info("not answering %s from %s: automatic or our own", mail.message_id, mail.sender)
        return False
    key = f"mail-answer:{mail.sender}"
    if await throttle.wait_before_next(key):
        log.info("not answering %s: %s had enough answers this hour", mail.message_id, mail.sender)
        return False
    await throttle.record_failure(key, _answer_limit(settings.imap.replies_per_hour))
    subject, text = render_answer(template, portal_url=settings.portal.public_url.rstrip("/"), **context)
    await MailReply.create(
        to_address=mail.sender,
        subject=subject[:200],
        text=text,
        in_reply_to=(mail.message_id or "")[:255] or None,
        next_attempt_at=datetime.now(UTC),
    )
    return True


def render_answer(name: str, **context: Any) -> tuple[str, str]:
    template = _template(name)
    values = template.new_context(context)

    def block(block_name: str) -> str:
        return "".join(template.blocks[block_name](values)).strip()

    return " ".join(block("subject").split()), block("text")


async def send_pending(settings: Settings, *, limit: int = 50) -> int:
    """Send the answers that are due; returns how many went out. Answers sent or given up on
    are forgotten after ``KEEP``."""
    now = datetime.now(UTC)
    await (
        MailReply.filter(created_at__lt=now - KEEP)
        .filter(Q(sent_at__isnull=False) | Q(attempts__gte=MAX_ATTEMPTS))
        .delete()
    )
    due = (
        await MailReply.filter(sent_at__isnull=True, next_attempt_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .limit(limit)
    )
    sent = 0
    for reply in due:
        try:
            await _send(reply, settings)
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:
            reply.attempts += 1
            reply.last_error = at_rest(_reason(exc))
            reply.next_attempt_at = now + _RETRY_BASE * 2 ** min(reply.attempts, 8)
            await reply.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            log.warning("answer %s not sent (attempt %s): %s", reply.id, reply.attempts, reply.last_error)
            continue
        reply.sent_at, reply.attempts = datetime.now(UTC), reply.attempts + 1
        await reply.save(update_fields=["sent_at", "attempts"])
        sent += 1
    return sent


async def _send(reply: MailReply, settings: Settings) -> None:
    s = settings.smtp
    domain = s.from_address.rpartition("@")[2] or "localhost"
    data = build_message(
        RenderedNotice(subject=reply.subject, text=reply.text, html=None),
        to=reply.to_address,
        from_address=s.from_address,
        message_id=f"<mimamori-answer-{reply.id}-{secrets.token_hex(6)}@{domain}>",
        date=datetime.now(UTC),
        in_reply_to=reply.in_reply_to,
    )
    async with smtp_client(s) as client:
        await transfer(client, s.from_address, reply.to_address, data)


def _reason(exc: Exception) -> str:
    """Why an answer did not go, in our words (the server's reply may quote the address)."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"mail server refused: {meaning(exc.code, exc.message)}"
    return f"not sent ({type(exc).__name__})"


def _answer_limit(per_hour: int) -> throttle.ThrottlePolicy:
    hour = timedelta(hours=1)
    return throttle.ThrottlePolicy(free_attempts=per_hour, base_delay=hour, max_delay=hour, forget_after=hour)


@cache
def _template(name: str) -> Template:
    return _environment().get_template(f"replies/{name}.j2")


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("mail", "templates"),
        autoescape=False,  # plain-text mail
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
