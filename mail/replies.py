"""Answers to incoming mail: written with the handling of the mail, sent after it, never in a loop.

An answer is a notice in the outbox (``NoticeKind.MAIL_ANSWER``), queued in the same transaction
that records the mail as handled, so a crash neither loses it nor sends it twice; the delivery
worker sends it through the mail transport on the one retry schedule, as every other mail.
Nothing automatic is ever answered (``Auto-Submitted``, ``Precedence``, ``List-Id``, bounces, our
own mail), and answers to one sender are rate limited: two autoresponders cannot ping-pong.
Texts live in mail/templates/replies/, written with ``_()`` and rendered in the language of the
person answered (the guardian the mail's code or address names, the staff member; else the default).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from core import templating, throttle
from core.config import Settings
from core.delivery.outbox import enqueue_mail_answer
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.models import Language
from mail.inbound import InboundMail

log = logging.getLogger(__name__)


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


async def queue_answer(
    mail: InboundMail, template: str, settings: Settings, *, language: Language = DEFAULT_LANGUAGE, **context: Any
) -> bool:
    """Queue the answer ``template`` in ``language`` to ``mail``'s sender; False when it must not be answered."""
    if not may_answer(mail, settings):
        log.info("not answering %s: automatic or our own", mail.message_id)  # no sender: an address
        return False
    key = f"mail-answer:{mail.sender}"
    if await throttle.wait_before_next(key):
        log.info("not answering %s: its sender had enough answers this hour", mail.message_id)
        return False
    await throttle.record_failure(key, _answer_limit(settings.imap.replies_per_hour))
    subject, text = render_answer(template, language, portal_url=settings.portal.public_url.rstrip("/"), **context)
    await enqueue_mail_answer(
        to=mail.sender,
        subject=subject[:200],
        text=text,
        in_reply_to=(mail.message_id or "")[:255] or None,
        language=language,
    )
    return True


def render_answer(name: str, language: Language, **context: Any) -> tuple[str, str]:
    template = _template(name)
    values = template.new_context({**context, "language": language})

    def block(block_name: str) -> str:
        return "".join(template.blocks[block_name](values)).strip()

    return " ".join(block("subject").split()), block("text")


def _answer_limit(per_hour: int) -> throttle.ThrottlePolicy:
    hour = timedelta(hours=1)
    return throttle.ThrottlePolicy(free_attempts=per_hour, base_delay=hour, max_delay=hour, forget_after=hour)


@cache
def _template(name: str) -> Template:
    return _environment().get_template(f"replies/{name}.j2")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mail", "templates"),
        autoescape=False,  # plain-text mail
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templating.install(env)
    return env
