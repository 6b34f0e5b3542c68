"""Answers the chat API did not take: queued in the outbox, pushed by the delivery worker later.

The platform's webhook call still gets its 200 (the turn itself is done and must not run twice);
the guardian gets the answer once the API is back, as a pushed message without quick replies.
"""

from __future__ import annotations

import logging

from bot.conversation import Reply
from core.delivery.outbox import enqueue_reply
from core.models import Channel

log = logging.getLogger(__name__)


async def answer_later(channel: Channel, chat: str, reply: Reply, error: BaseException) -> None:
    log.warning("%s did not take a reply (%s): queued for the delivery worker", channel.value, type(error).__name__)
    await enqueue_reply(channel, chat, reply.text, [(b.label, b.postback) for b in reply.buttons])
