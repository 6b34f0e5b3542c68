"""Mail to a broadcast's List-Unsubscribe mailto (``bounce+unsubscribe-<token>@``): it stops
broadcasts to the address the token names, as the one-click link does. A token we did not make
is ignored; such mail is never answered, nor read as a bounce or a registration."""

from __future__ import annotations

import logging

from core import unsubscribe
from core.models import Channel
from mail.addresses import unsubscribe_token_in
from mail.inbound import InboundMail

log = logging.getLogger(__name__)


def is_unsubscribe(mail: InboundMail) -> bool:
    return any(unsubscribe_token_in(r) is not None for r in mail.recipients)


async def handle_unsubscribe(mail: InboundMail) -> None:
    tokens = {t for r in mail.recipients if (t := unsubscribe_token_in(r)) is not None}
    for token in sorted(tokens):
        address = await unsubscribe.address_of(token)
        if address is None:
            log.info("unsubscribe mail %s names no address of ours: ignored", mail.message_id)
        elif not await unsubscribe.stop_broadcasts(address, via=Channel.EMAIL):
            log.info("unsubscribe mail %s: broadcasts to address %s were stopped already", mail.message_id, address.id)
