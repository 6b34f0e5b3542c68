"""Staff alerts by mail: a mail to the alerts address becomes a draft broadcast, never more.

From is easy to forge, so a mail alone never sends anything: the draft is answered with a link to
the portal, where the staff member logs in with a second factor and confirms it. The answer goes
to the registered address, so a forger learns nothing. Mail from an address that is not a
staff member's is not answered at all (answering forged senders would be backscatter).
"""

from __future__ import annotations

import logging
import re

from core import actors, broadcasts
from core.addresses import address_index
from core.config import Settings
from core.errors import UserError
from core.i18n import _
from core.models import BroadcastCategory, Channel, StaffAccount, StaffAddress, StaffRole
from mail.inbound import InboundMail
from mail.replies import queue_answer

log = logging.getLogger(__name__)

_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|転送|返信)\s*[:：]\s*)+", re.IGNORECASE)
_CATEGORY_WORDS = (
    (BroadcastCategory.SUSPICIOUS_PERSON, ("不審者", "不審な", "suspicious")),
    (BroadcastCategory.DISASTER, ("地震", "津波", "台風", "大雨", "避難", "災害", "警報", "disaster", "earthquake")),
    (BroadcastCategory.CLOSURE, ("休校", "臨時休業", "休館", "閉館", "学級閉鎖", "closure", "closed")),
)


def is_staff_alert(mail: InboundMail, settings: Settings) -> bool:
    alerts = settings.imap.alerts_address
    return bool(alerts and alerts.lower() in mail.recipients)


async def handle_staff_alert(mail: InboundMail, settings: Settings) -> None:
    staff = await _staff_of(mail.sender)
    if staff is None:
        log.warning("alert mail %s from an address no staff member registered: ignored", mail.message_id)
        return
    body = mail.text.strip()  # all of it: staff often forward a notice they received
    title = _REPLY_PREFIX.sub("", mail.subject).strip() or body.split("\n", 1)[0]
    body = body or title
    try:
        scope = await _scope_of(staff)
        draft = await broadcasts.create_draft(
            author=staff,
            scope=scope,
            category=_category(f"{title}\n{body}"),
            title=title[: broadcasts.TITLE_LIMIT],
            body=body[: broadcasts.BODY_LIMIT],
            ack_requested=False,
            actor=actors.staff(staff, Channel.EMAIL),
        )
    except UserError as refused:
        log.info("alert mail %s from staff %s refused: %s", mail.message_id, staff.id, refused)
        await queue_answer(mail, "staff_refused", settings, language=staff.language, reason=refused.message)
        return
    log.info("alert mail %s from staff %s: draft broadcast %s", mail.message_id, staff.id, draft.id)
    portal = settings.portal.public_url.rstrip("/")
    await queue_answer(
        mail,
        "staff_draft",
        settings,
        language=staff.language,
        title=draft.title,
        scope=scope.label(),
        broadcast_url=f"{portal}/staff/broadcasts/{draft.id}",
    )


async def _staff_of(sender: str) -> StaffAccount | None:
    if not sender:
        return None
    address = await StaffAddress.get_or_none(
        channel=Channel.EMAIL, value_index=address_index(Channel.EMAIL, sender), verified_at__isnull=False
    ).prefetch_related("staff")
    if address is None or address.staff.disabled_at is not None:
        return None
    return address.staff


async def _scope_of(staff: StaffAccount) -> broadcasts.Scope:
    """Administrators alert the whole city; staff their own sites (narrowed on the portal)."""
    if staff.role is StaffRole.ADMIN:
        return broadcasts.Scope()
    sites = await staff.sites.all().order_by("id")
    if staff.role is not StaffRole.STAFF or not sites:
        raise UserError(_("This account cannot send broadcasts."))
    return broadcasts.Scope(tuple(broadcasts.Target(site.id, site.name) for site in sites))


def _category(text: str) -> BroadcastCategory:
    folded = text.casefold()
    for category, words in _CATEGORY_WORDS:
        if any(word in folded for word in words):
            return category
    return BroadcastCategory.GENERAL
