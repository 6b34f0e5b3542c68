"""What happens to each incoming mail: unsubscribe mail stops broadcasts, bounces are recorded,
staff alerts become drafts, and guardians' mail registers or confirms addresses. Automatic mail and
our own are never acted on.

``Inbox.handle`` runs inside the poller's transaction for the message (see mail.imap_poller); the
answers it queues are sent by the delivery worker, as every other mail.
"""

from __future__ import annotations

import logging

from core.config import Settings
from core.delivery import wakeup
from mail.bounces import handle_bounce, is_bounce
from mail.inbound import parse_mail
from mail.registration import handle_guardian_mail
from mail.replies import is_our_own
from mail.staff_alerts import handle_staff_alert, is_staff_alert
from mail.unsubscribe import handle_unsubscribe, is_unsubscribe

log = logging.getLogger(__name__)


class Inbox:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def handle(self, data: bytes, truncated: bool) -> None:
        mail = parse_mail(data)
        if is_unsubscribe(mail):  # first: it comes to the bounce mailbox, and may look automatic
            await handle_unsubscribe(mail)
        elif is_bounce(mail):
            await handle_bounce(mail, self._settings)
        elif is_our_own(mail, self._settings):
            log.info("mail %s is our own: ignored", mail.message_id)
        elif mail.automatic:
            log.info("automatic mail %s: ignored", mail.message_id)  # no sender: an address
        elif not mail.sender:
            log.info("mail %s has no readable sender: ignored", mail.message_id)
        elif is_staff_alert(mail, self._settings):
            await handle_staff_alert(mail, self._settings)
        else:
            await handle_guardian_mail(mail, self._settings)

    async def answers_queued(self) -> None:
        """After a batch of mail is committed: its answers are in the outbox, so this process's
        delivery worker sends them now (a worker elsewhere finds them at its next poll)."""
        wakeup.notices_queued()
