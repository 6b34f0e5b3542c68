"""Mail is not authentication: an absence report by mail is answered with the portal link, never recorded.

A mail's From can be forged, and a forged 「欠席します」 would hide a missing child from the school's
"not seen" check. So a mail that reads like a report, or any mail from a registered guardian that
holds no registration code, gets one answer (in the guardian's language) pointing to /absences.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

from core import throttle
from core.addresses import address_index
from core.config import Settings
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.models import Channel, ContactAddress
from core.preferences import language_of
from mail.inbound import InboundMail
from mail.replies import queue_answer

log = logging.getLogger(__name__)

# Words a report is written with, in the seven languages guardians read (folded with NFKC + casefold).
_REPORT_WORDS = re.compile(
    r"欠席|遅刻|早退|休みます|休ませ|お休み|やすみ|けっせき|ちこく|そうたい|缺席|迟到|早退|请假"
    r"|\b(absent|absence|late|sick|leave early|falta|faltar|ausente|atraso|atrasad[oa]|doente"
    r"|vắng|nghỉ học|đi muộn|đi trễ|liban|lumiban|huli|may sakit)\b",
    re.IGNORECASE,
)
_ONE_AN_HOUR = throttle.ThrottlePolicy(
    free_attempts=1, base_delay=timedelta(hours=1), max_delay=timedelta(hours=1), forget_after=timedelta(hours=1)
)


def looks_like_report(mail: InboundMail) -> bool:
    """Whether the subject or the new text reads like an absence, lateness or early-leave report."""
    text = unicodedata.normalize("NFKC", f"{mail.subject}\n{mail.fresh_text}").casefold()
    return _REPORT_WORDS.search(text) is not None


async def answer_with_portal_link(mail: InboundMail, settings: Settings) -> bool:
    """Answer a mail without a registration code when it is a report or comes from a guardian's
    address; True when an answer was queued. Nothing is ever recorded from it."""
    guardian_id = await _guardian_of(mail.sender)
    if guardian_id is None and not looks_like_report(mail):
        return False
    if not await once_an_hour(f"mail-report-answer:{mail.sender}"):
        log.info("mail %s: the portal link was sent to this sender within the hour", mail.message_id)
        return False
    log.info("mail %s: a report by mail is not taken; answered with the portal link", mail.message_id)
    language = await language_of(guardian_id) or DEFAULT_LANGUAGE
    return await queue_answer(mail, "report_by_mail", settings, language=language)


async def _guardian_of(sender: str) -> int | None:
    address = (
        await ContactAddress.filter(
            channel=Channel.EMAIL, value_index=address_index(Channel.EMAIL, sender), slot__isnull=False
        )
        .order_by("guardian_id")
        .first()
    )
    return address.guardian_id if address is not None else None


async def once_an_hour(key: str) -> bool:
    """True the first time ``key`` is asked this hour: one answer of a kind per sender and hour
    (a family writing three mails in a morning needs the link once; a guesser learns nothing more)."""
    if await throttle.wait_before_next(key):
        return False
    await throttle.record_failure(key, _ONE_AN_HOUR)
    return True
