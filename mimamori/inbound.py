"""Wiring inbound mail: the mailbox the settings name, read by a poller handing mail to the inbox."""

from __future__ import annotations

import asyncio
import logging

from core.config import Settings
from mail.imap_poller import ImapPoller
from mail.inbox import Inbox

log = logging.getLogger(__name__)


async def run_inbound(settings: Settings, stop: asyncio.Event) -> None:
    """Read the mailbox until ``stop``; returns at once when no ``imap.host`` is set."""
    if not settings.imap.host:
        return
    inbox = Inbox(settings)
    poller = ImapPoller(settings.imap, inbox.handle, after_batch=inbox.answers_queued)
    log.info("reading mail from %s:%s", settings.imap.host, settings.imap.port)
    await poller.run(stop)
