"""Guardians registering by mail: a registration code in a mail, or a reply to a verification mail.

The rules (single-use codes, the address limit, throttled guessing) are core.registration's; this
module only finds the code and the sender and chooses the answer.
"""

from __future__ import annotations

import logging

from core.addresses import address_index
from core.channels import spec
from core.config import Settings
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.identifiers import find_registration_code
from core.models import AddressStatus, Channel, ContactAddress, Delivery, Language, NoticeKind
from core.preferences import language_of
from core.registration import Outcome, Result, confirm_pending, register_with_code, verify_with_code
from mail.addresses import delivery_of_message_id
from mail.inbound import InboundMail
from mail.replies import queue_answer
from mail.reports import answer_with_portal_link, once_an_hour

log = logging.getLogger(__name__)

_ANSWERS = {
    Outcome.REGISTERED: "registered",
    Outcome.ALREADY_REGISTERED: "already_registered",
    Outcome.AT_LIMIT: "at_limit",
    Outcome.WRONG_CODE: "wrong_code",
}


async def handle_guardian_mail(mail: InboundMail, settings: Settings) -> None:
    limit = settings.accounts.max_addresses
    replied = await _verification_replied_to(mail)
    if replied is not None:
        if replied.status is AddressStatus.PENDING:
            result = await confirm_pending(replied, limit=limit)
        else:  # a second reply to the same verification mail
            result = Result(Outcome.ALREADY_REGISTERED, guardian_id=replied.guardian_id)
        await _answer(mail, result, settings, verified=True)
        return
    if await _has_pending_address(mail.sender):
        result = await verify_with_code(mail.text, limit=limit, channel=Channel.EMAIL, value=mail.sender)
        if result.outcome is Outcome.REGISTERED:
            await _answer(mail, result, settings, verified=True)
            return
    result = await register_with_code(_code_text(mail), Channel.EMAIL, mail.sender, limit=limit)
    if result.outcome is Outcome.NO_CODE:
        if not await answer_with_portal_link(mail, settings):  # mail is never a report: the link
            log.info("mail %s from a sender holds no registration code: not answered", mail.message_id)
        return
    if result.outcome is Outcome.THROTTLED:
        log.info("mail %s: registration guesses from this sender are throttled", mail.message_id)
        return
    await _answer(mail, result, settings)


def _code_text(mail: InboundMail) -> str:
    """Where the guardian's code is: the subject or the new text, else (a forwarded notice) the
    text it quotes."""
    fresh = f"{mail.subject}\n{mail.fresh_text}"
    return fresh if find_registration_code(fresh) else f"{mail.subject}\n{mail.text}"


async def _verification_replied_to(mail: InboundMail) -> ContactAddress | None:
    """The sender's address, when this mail replies to the verification mail sent to it."""
    for message_id in mail.in_reply_to:
        delivery_id = delivery_of_message_id(message_id)
        if delivery_id is None:
            continue
        delivery = await Delivery.get_or_none(id=delivery_id, kind=NoticeKind.VERIFICATION)
        if delivery is None or delivery.address_id is None:
            continue
        address = await ContactAddress.get_or_none(id=delivery.address_id)
        if address is not None and address.value_index == address_index(Channel.EMAIL, mail.sender):
            return address
    return None


async def _has_pending_address(sender: str) -> bool:
    return await ContactAddress.filter(
        channel=Channel.EMAIL, value_index=address_index(Channel.EMAIL, sender), status=AddressStatus.PENDING
    ).exists()


async def _answer(mail: InboundMail, result: Result, settings: Settings, *, verified: bool = False) -> None:
    template = "verified" if verified and result.outcome is Outcome.REGISTERED else _ANSWERS[result.outcome]
    log.info("mail %s: %s", mail.message_id, result.outcome.value)
    if result.outcome is Outcome.WRONG_CODE and not await _first_wrong_code_answer(mail.sender):
        return
    await queue_answer(
        mail,
        template,
        settings,
        language=await _language(result, mail.sender),
        limit=settings.accounts.max_addresses,
        registered=[{"channel": a.channel, "shown": spec(a.channel).mask(a.value)} for a in result.registered],
    )


async def _language(result: Result, sender: str) -> Language:
    """The answer's: that of the guardian the code named, else of the guardian whose address wrote
    (a wrong code from a registered parent), else the default."""
    if result.guardian_id is None:
        address = await ContactAddress.filter(
            channel=Channel.EMAIL, value_index=address_index(Channel.EMAIL, sender), slot__isnull=False
        ).first()
        return await language_of(address.guardian_id if address else None) or DEFAULT_LANGUAGE
    return await language_of(result.guardian_id) or DEFAULT_LANGUAGE


async def _first_wrong_code_answer(sender: str) -> bool:
    """One polite answer to wrong codes per sender and hour: more would help a guesser."""
    return await once_an_hour(f"mail-wrong-code-answer:{sender}")
