"""Bounces: delivery status notifications (RFC 3464) matched to the delivery they are about.

The delivery is found through the VERP return path the bounce was sent to, else through the
Message-ID of the returned original; both carry a keyed tag, so a forged bounce naming someone
else's delivery is ignored. A permanent failure (``Action: failed``, status 5.x.x) fails the
delivery and counts toward the address failing; delays and temporary failures change nothing.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import cast

from core.config import Settings
from core.delivery.outcomes import record_bounce
from mail.addresses import delivery_of_message_id, delivery_of_return_path
from mail.inbound import InboundMail, header_text
from mail.smtp_status import meaning, reply_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    permanent: bool
    reason: str  # in our words, e.g. "mailbox does not exist (550 5.1.1)" (mail.smtp_status)
    original_message_id: str | None


def is_bounce(mail: InboundMail) -> bool:
    return (
        mail.is_report or mail.return_path == "" or any(delivery_of_return_path(r) is not None for r in mail.recipients)
    )


def read_report(mail: InboundMail) -> Report | None:
    """The delivery status in a DSN; None when ``mail`` is not one."""
    # get_param gives an RFC 2231 value as a (charset, language, value) tuple (never for a hyphenated
    # name such as this one, whose continuations the email package does not decode, but typed so)
    report_type = collapse_rfc2231_value(mail.raw.get_param("report-type", "", header="content-type"))
    if report_type.lower() != "delivery-status":
        return None
    failed, reasons, original = False, [], None
    for part in mail.raw.walk():
        kind = part.get_content_type()
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            for fields in _status_groups(part):
                action = fields.get("action", "").strip().lower()
                status = fields.get("status", "").strip()
                if action == "failed" and status.startswith("5"):
                    failed = True
                    diagnostic = fields.get("diagnostic-code", "")  # may quote the recipient: not kept
                    reasons.append(meaning(reply_code(diagnostic), diagnostic, status))
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"):
            original = original or _original_message_id(part)
    return Report(failed, "; ".join(reasons) or "delivery failed", original)


async def handle_bounce(mail: InboundMail, settings: Settings) -> None:
    report = read_report(mail)
    if report is None:
        log.info("bounce %s is not a delivery status report: ignored", mail.message_id)  # no sender: an address
        return
    delivery_id = _delivery_of(mail, report)
    if delivery_id is None:
        log.info("bounce %s names no delivery of ours: ignored", mail.message_id)
        return
    if not report.permanent:
        log.info(
            "delivery %s delayed or failed temporarily: %s",
            delivery_id,
            report.reason,
            extra={"delivery_id": delivery_id},
        )
        return
    if await record_bounce(delivery_id, report.reason, settings.delivery) is not None:
        log.info("delivery %s bounced: %s", delivery_id, report.reason, extra={"delivery_id": delivery_id})


def _delivery_of(mail: InboundMail, report: Report) -> int | None:
    for recipient in mail.recipients:
        found = delivery_of_return_path(recipient)
        if found is not None:
            return found
    if report.original_message_id:
        return delivery_of_message_id(report.original_message_id)
    return None


def _status_groups(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field groups of a delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parsed the groups as header blocks
        return [{k.lower(): str(v) for k, v in block.items()} for block in cast(list[Message], payload)]
    text = payload if isinstance(payload, str) else ""
    groups = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        parsed = email.message_from_string(block.strip() + "\n")
        groups.append({k.lower(): str(v) for k, v in parsed.items()})
    return groups


def _original_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        original = cast(Message, payload[0])  # a message/rfc822 part holds one message
    else:
        text = payload if isinstance(payload, str) else ""
        original = email.message_from_string(text)
    value = header_text(original, "Message-ID")
    return value or None
