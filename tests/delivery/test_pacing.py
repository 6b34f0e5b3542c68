"""Pacing by recipient group: a carrier that throttles us slows its own group only, and a passage
notice to a carrier's address goes out within its slot while a city-wide alert fills that group.

The retry schedule is set to an hour here: a mail that arrives at all was not retried on it."""

from __future__ import annotations

import asyncio

import pytest

from core import broadcasts
from core.addresses import counted_addresses
from core.broadcasts.fanout import continue_fanouts
from core.config import LanePace, Settings
from core.delivery.worker import DeliveryWorker
from core.models import BroadcastCategory, Channel, Delivery, DeliveryStatus, NoticeKind
from core.scheduler import drain
from mail.smtp import SmtpTransport
from tests.factories import make_guardian, queue_passage_notice
from tests.mailsink import MailSink


def _paced(mail_settings: Settings, **lanes: LanePace) -> Settings:
    """Broadcasts may use half of each group's pace; a retry on the schedule would come after an hour."""
    smtp = mail_settings.smtp.model_copy(update={"lanes": {**mail_settings.smtp.lanes, **lanes}, "bulk_share": 0.5})
    delivery = mail_settings.delivery.model_copy(update={"retry_base_seconds": 3600, "retry_max_seconds": 3600})
    return mail_settings.model_copy(update={"smtp": smtp, "delivery": delivery})


async def _alert_to(addresses: list[str]) -> None:
    """A confirmed city-wide disaster alert, one guardian for each of ``addresses``."""
    for address in addresses:
        await make_guardian(emails=[address])
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="大雨のため臨時休校",
        body="本日は臨時休校とします。",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)


async def _run(settings: Settings, timeout: float = 60) -> None:
    transport = SmtpTransport(settings.smtp)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.EMAIL: transport}), timeout=timeout)
    finally:
        await transport.close()


def _arrivals(sink: MailSink) -> list[str]:
    return [mail.rcpt_tos[0] for mail in sink.received]


async def test_a_carrier_that_throttles_slows_its_own_group_while_the_others_go_at_full_speed(
    database_url, mail_settings, mail_sink
) -> None:
    docomo = [f"d{n}@docomo.ne.jp" for n in range(40)]
    others = [f"o{n}@example.jp" for n in range(40)]
    await _alert_to([address for pair in zip(docomo, others, strict=True) for address in pair])
    # the carrier takes 10 a second, we were told it takes 40: the group must learn its pace
    mail_sink.throttle(("docomo.ne.jp",), per_second=10)
    paced = _paced(mail_settings, docomo=LanePace(concurrency=2, rate_per_second=40))

    await _run(paced)

    arrivals = _arrivals(mail_sink)
    assert sorted(arrivals) == sorted(docomo + others)  # everyone, once, within the hour's retry delay
    refused = {a.recipient for a in mail_sink.attempts if a.reply.startswith("421")}
    assert refused and refused <= set(docomo)  # only docomo was throttled
    # the other group was never held up by docomo: all its mail arrived before half of docomo's
    docomo_order = [a for a in arrivals if a in docomo]
    assert max(arrivals.index(a) for a in others) < arrivals.index(docomo_order[len(docomo) // 2])
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 80


async def test_a_passage_notice_goes_out_within_its_slot_while_an_alert_fills_its_carrier(
    database_url, mail_settings, mail_sink
) -> None:
    """The alert may use one of docomo's two connections and half its rate; the other is kept, and
    the passage notice, though queued after 30 alert mails to docomo, arrives within a few of them."""
    parent = await make_guardian(emails=["hanako.mama@docomo.ne.jp"])  # she has the alert too
    docomo = [f"d{n}@docomo.ne.jp" for n in range(30)]
    await _alert_to(docomo)
    for address in docomo:
        mail_sink.answer_message(address, "stall 0.1")  # each alert mail holds its connection a while
    paced = _paced(mail_settings, docomo=LanePace(concurrency=2, rate_per_second=10))
    sending = asyncio.create_task(_run(paced))
    await asyncio.to_thread(mail_sink.wait_for, 3)

    before = len(mail_sink.received)
    [address] = await counted_addresses(parent.id)
    await queue_passage_notice(address)
    await sending

    arrivals = _arrivals(mail_sink)
    assert len(arrivals) == 32
    passage = next(n for n, mail in enumerate(mail_sink.received) if "花子" in mail.message["Subject"])
    assert passage <= before + 3 < len(docomo)  # a few alert mails at most, while many still waited
    # the alert never took the kept connection: one alert mail in DATA at a time
    assert mail_sink.most_in_data["docomo.ne.jp"] <= 2
    notice = await Delivery.get(kind=NoticeKind.PASSAGE)
    assert notice.status is DeliveryStatus.SENT and notice.attempts == 1 and notice.lane == "docomo"


async def test_the_alert_keeps_to_its_share_of_a_carriers_connections(database_url, mail_settings, mail_sink) -> None:
    docomo = [f"d{n}@docomo.ne.jp" for n in range(12)]
    await _alert_to(docomo)
    for address in docomo:
        mail_sink.answer_message(address, "stall 0.1")
    paced = _paced(mail_settings, docomo=LanePace(concurrency=2, rate_per_second=0))

    await _run(paced)

    assert len(mail_sink.received) == 12
    assert mail_sink.most_in_data["docomo.ne.jp"] == 1  # of two connections, one is kept for passages


@pytest.mark.parametrize("given", ["421 4.7.0 Try again later", "451 4.7.1 Rate limit exceeded"])
async def test_a_throttled_passage_notice_is_tried_again_when_its_group_sends_again(
    database_url, mail_settings, mail_sink, given
) -> None:
    parent = await make_guardian(emails=["hanako.mama@ezweb.ne.jp"])
    mail_sink.answer("hanako.mama@ezweb.ne.jp", given, given)
    [address] = await counted_addresses(parent.id)
    await queue_passage_notice(address)

    await _run(_paced(mail_settings))

    assert _arrivals(mail_sink) == ["hanako.mama@ezweb.ne.jp"]  # within the test, not after an hour
    notice = await Delivery.get()
    assert notice.status is DeliveryStatus.SENT and notice.attempts == 3 and notice.lane == "au"


async def test_a_worker_that_stops_hands_back_at_once_what_a_slow_group_still_held(
    database_url, mail_settings, mail_sink
) -> None:
    """Another worker can send it now, rather than after the slow group's minutes (or the lease)."""
    await _alert_to([f"d{n}@docomo.ne.jp" for n in range(10)])
    paced = _paced(mail_settings, docomo=LanePace(concurrency=2, rate_per_second=1))
    await continue_fanouts(paced)
    transport = SmtpTransport(paced.smtp)
    stop = asyncio.Event()
    running = asyncio.create_task(DeliveryWorker(paced, {Channel.EMAIL: transport}).run(stop))
    await asyncio.to_thread(mail_sink.wait_for, 1)

    stop.set()
    await running
    await transport.close()

    assert not await Delivery.filter(status=DeliveryStatus.SENDING).exists()
    queued = await Delivery.filter(status=DeliveryStatus.QUEUED).count()
    assert queued >= 5 and queued + len(mail_sink.received) == 10
