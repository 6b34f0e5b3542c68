"""Answers wait in the outbox while the mail server is away, and go out when it is back: sent by
the delivery worker on the one retry schedule, as every other mail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.config import Settings
from core.delivery.worker import DeliveryWorker
from core.models import Channel, Delivery, DeliveryStatus, NoticeKind
from mail.inbound import parse_mail
from mail.replies import queue_answer
from mail.smtp import SmtpTransport
from tests.mail.conftest import arrived, compose, eventually
from tests.mailsink import MailSink
from tests.net import free_port


async def _sent_by_a_worker(settings: Settings, *, seconds: float = 30) -> int:
    """How many mails one delivery worker sends until the outbox is empty or ``seconds`` pass
    (an answer backing off stays queued until then)."""
    transport = SmtpTransport(settings.smtp)
    worker = DeliveryWorker(settings, {Channel.EMAIL: transport})
    try:
        await worker.drain(timeout=seconds)
    finally:
        await transport.close()
    return worker.sent


async def test_an_answer_waits_for_the_mail_server_and_is_sent_once(
    inbound_settings: Settings, mail_sink: MailSink
) -> None:
    mail = parse_mail(compose("parent@example.jp", "登録", "1234 5678 9012"))
    assert await queue_answer(mail, "wrong_code", inbound_settings)
    away = inbound_settings.model_copy(update={"smtp": inbound_settings.smtp.model_copy(update={"port": free_port()})})

    assert await _sent_by_a_worker(away, seconds=1) == 0
    reply = await Delivery.get(kind=NoticeKind.MAIL_ANSWER)
    assert reply.sent_at is None and reply.attempts == 1 and reply.last_error
    assert await _sent_by_a_worker(inbound_settings, seconds=0.5) == 0  # not due yet: it backs off

    await Delivery.filter(id=reply.id).update(next_attempt_at=datetime.now(UTC))
    assert await _sent_by_a_worker(inbound_settings) == 1
    assert await _sent_by_a_worker(inbound_settings) == 0
    [answer] = mail_sink.to("parent@example.jp")
    assert answer.message["In-Reply-To"] == mail.message_id


async def test_an_answer_is_retried_on_the_one_schedule_until_the_mail_server_is_back(
    inbound_settings: Settings, mail_sink: MailSink
) -> None:
    # a schedule no other rule has: every retry 0.5–1 s after the last try (equal jitter)
    settings = inbound_settings.model_copy(
        update={
            "delivery": inbound_settings.delivery.model_copy(
                update={"retry_base_seconds": 1.0, "retry_max_seconds": 1.0}
            )
        }
    )
    mail = parse_mail(compose("parent@example.jp", "登録", "1234 5678 9012"))
    mail_sink.stop()  # the city's mail server is down
    assert await queue_answer(mail, "wrong_code", settings)

    async def answer() -> Delivery:
        return await Delivery.get(kind=NoticeKind.MAIL_ANSWER)

    transport = SmtpTransport(settings.smtp)
    stop = asyncio.Event()
    worker = asyncio.create_task(DeliveryWorker(settings, {Channel.EMAIL: transport}).run(stop))
    try:
        await eventually(lambda: _tried(answer, 1))
        seen_failed = datetime.now(UTC)
        first = await answer()
        assert first.status is DeliveryStatus.QUEUED and first.sent_at is None
        assert "unreachable" in (first.last_error or "") and "parent@" not in (first.last_error or "")
        # the one schedule's first backoff, not a rule of its own: 0.5–1 s after the try ended, which
        # was after it began and before this test saw it (a refused connection's time is the machine's)
        assert first.next_attempt_at >= first.first_tried_at + timedelta(seconds=0.5 - 0.05)  # type: ignore[operator]
        assert first.next_attempt_at <= seen_failed + timedelta(seconds=1.0 + 0.05)
        await eventually(lambda: _tried(answer, 3))  # and tried again by it while the server stays down

        mail_sink.start()  # the server is back
        await arrived(mail_sink, 1)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
        await transport.close()
    sent = await answer()
    assert sent.status is DeliveryStatus.SENT and sent.attempts >= 4
    [received] = mail_sink.to("parent@example.jp")
    assert received.message["In-Reply-To"] == mail.message_id
    assert received.mail_from.startswith("bounce+")  # its bounce is matched to it, never answered


async def _tried(answer, times: int) -> bool:
    row = await answer()
    return row.attempts >= times and row.status is DeliveryStatus.QUEUED and row.last_error is not None
