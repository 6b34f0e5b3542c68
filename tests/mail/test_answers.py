"""Answers wait in the database while the mail server is away, and go out when it is back."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import Settings
from core.models import MailReply
from mail.inbound import parse_mail
from mail.replies import queue_answer, send_pending
from tests.mail.conftest import compose
from tests.mailsink import MailSink
from tests.net import free_port


async def test_an_answer_waits_for_the_mail_server_and_is_sent_once(
    inbound_settings: Settings, mail_sink: MailSink
) -> None:
    mail = parse_mail(compose("parent@example.jp", "登録", "1234 5678 9012"))
    assert await queue_answer(mail, "wrong_code", inbound_settings)
    away = inbound_settings.model_copy(update={"smtp": inbound_settings.smtp.model_copy(update={"port": free_port()})})

    assert await send_pending(away) == 0
    reply = await MailReply.get()
    assert reply.sent_at is None and reply.attempts == 1 and reply.last_error
    assert await send_pending(inbound_settings) == 0  # not due yet: it backs off

    await MailReply.filter(id=reply.id).update(next_attempt_at=datetime.now(UTC))
    assert await send_pending(inbound_settings) == 1
    assert await send_pending(inbound_settings) == 0
    [answer] = mail_sink.to("parent@example.jp")
    assert answer.message["In-Reply-To"] == mail.message_id
