"""Notices by mail: what arrives, and what happens when the mail server misbehaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core.addresses import counted_addresses
from core.delivery.claims import claim_batch
from core.delivery.outbox import Priority, enqueue
from core.delivery.worker import DeliveryWorker
from core.models import AddressStatus, Channel, ContactAddress, Delivery, DeliveryStatus, NoticeKind
from mail.addresses import delivery_of_message_id, delivery_of_return_path
from mail.smtp import SmtpTransport
from tests.factories import PASSAGE_SEEN as SEEN
from tests.factories import make_guardian, queue_passage_notice


async def _passage_notice(guardian, *, token: str | None = "PHOTO-TOKEN-1", expires: timedelta = timedelta(hours=1)):
    return [
        await queue_passage_notice(address, seen_at=SEEN, photo_token=token, expires=expires)
        for address in await counted_addresses(guardian.id)
    ]


async def test_a_passage_notice_arrives_as_a_japanese_mail_with_the_photo_link(
    database_url, mail_sink, deliver
) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    await _passage_notice(guardian)

    await deliver()

    [mail] = mail_sink.received
    message = mail.message
    assert mail.rcpt_tos == ("keiko@example.jp",) and message["To"] == "keiko@example.jp"
    assert message["Subject"] == "【見守り】花子さん 登校 7:58"
    assert "花子さんが7:58にみどり小学校に登校しました。" in mail.text
    assert "https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1" in mail.text
    assert 'href="https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1"' in message.get_body(("html",)).get_content()
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"]
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 1 and delivery.sent_at
    assert message["Message-ID"] == delivery.provider_message_id
    assert delivery_of_message_id(message["Message-ID"]) == delivery.id
    assert delivery_of_return_path(mail.mail_from) == delivery.id  # VERP, for bounces
    assert mail.mail_from.endswith("@bounce.city.example.jp")


async def test_each_address_gets_its_own_mail_and_sees_no_other(database_url, mail_sink, deliver) -> None:
    await _passage_notice(await make_guardian("山田 恵子", emails=["keiko@example.jp", "keiko.m@docomo.ne.jp"]))
    await _passage_notice(await make_guardian("佐藤 直樹", emails=["naoki..sato.@ezweb.ne.jp"]))

    await deliver()

    assert sorted(r for m in mail_sink.received for r in m.rcpt_tos) == [
        "keiko.m@docomo.ne.jp",
        "keiko@example.jp",
        "naoki..sato.@ezweb.ne.jp",
    ]
    for mail in mail_sink.received:
        others = {"keiko@example.jp", "keiko.m@docomo.ne.jp", "naoki..sato.@ezweb.ne.jp"} - set(mail.rcpt_tos)
        assert not any(other.encode() in mail.data for other in others)
        assert "Cc" not in mail.message


async def test_a_notice_queued_twice_is_sent_once(database_url, mail_sink, deliver) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    first, again = await _passage_notice(guardian), await _passage_notice(guardian)
    assert first[0] is not None and again == [None]
    await deliver()
    assert mail_sink.per_recipient() == {"keiko@example.jp": 1}


async def test_a_notice_is_written_with_its_fact_or_not_at_all(database_url) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    try:
        async with in_transaction():
            await _passage_notice(guardian)
            raise RuntimeError("the passage could not be stored")
    except RuntimeError:
        pass
    assert await Delivery.all().count() == 0


async def _deliver_over_one_connection(mail_settings, **smtp: object) -> None:
    transport = SmtpTransport(mail_settings.smtp.model_copy(update={"connections": 1, **smtp}))
    try:
        await DeliveryWorker(mail_settings, {Channel.EMAIL: transport}).drain(timeout=30)
    finally:
        await transport.close()


async def test_a_temporary_refusal_is_retried(database_url, mail_sink, deliver) -> None:
    mail_sink.answer("keiko@example.jp", "451 4.3.0 Mailbox temporarily unavailable")
    await _passage_notice(await make_guardian(emails=["keiko@example.jp"]))

    await deliver()

    assert mail_sink.per_recipient() == {"keiko@example.jp": 1}
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 2 and delivery.last_error is None


async def test_a_permanent_refusal_fails_at_once_and_keeps_the_reply(database_url, mail_sink, deliver) -> None:
    mail_sink.answer("gone@example.jp", "550 5.1.1 No such user here")
    guardian = await make_guardian(emails=["gone@example.jp"])
    await _passage_notice(guardian)

    await deliver()

    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "mail server refused: mailbox does not exist (550 5.1.1)"
    address = await ContactAddress.get(guardian_id=guardian.id)
    assert address.failure_count == 1 and address.status is AddressStatus.ACTIVE


async def test_a_refused_recipient_does_not_spoil_the_next_mail_on_the_same_connection(
    database_url, mail_settings, mail_sink
) -> None:
    mail_sink.answer("gone@example.jp", "550 5.1.1 No such user here")
    await _passage_notice(await make_guardian(emails=["gone@example.jp"]))
    await _passage_notice(await make_guardian(emails=["keiko@example.jp"]))
    await _deliver_over_one_connection(mail_settings)

    [mail] = mail_sink.received
    assert mail.rcpt_tos == ("keiko@example.jp",) and mail.message["To"] == "keiko@example.jp"
    statuses = {d.address_id: d.status for d in await Delivery.all()}
    assert sorted(s.value for s in statuses.values()) == ["failed", "sent"]


async def test_a_message_refused_after_its_data_fails_with_the_reply_and_the_next_still_goes(
    database_url, mail_settings, mail_sink
) -> None:
    mail_sink.answer_message("gone@example.jp", "554 5.6.0 Message content rejected")
    await _passage_notice(await make_guardian(emails=["gone@example.jp"]))
    await _passage_notice(await make_guardian(emails=["keiko@example.jp"]))
    await _deliver_over_one_connection(mail_settings)

    assert [mail.rcpt_tos for mail in mail_sink.received] == [("keiko@example.jp",)]
    failed = await Delivery.get(status=DeliveryStatus.FAILED)
    assert failed.last_error == "mail server refused: the content was refused (554 5.6.0)"


async def test_a_mail_server_that_stops_answering_is_given_up_on_and_the_notice_retried(
    database_url, mail_settings, mail_sink
) -> None:
    mail_sink.answer_message("keiko@example.jp", "stall 20")
    await _passage_notice(await make_guardian(emails=["keiko@example.jp"]))
    await _deliver_over_one_connection(mail_settings, timeout_seconds=0.5)

    delivery = await Delivery.get()
    # the first attempt waited half a second for the reply to its message, not twenty
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 2
    assert [mail.rcpt_tos for mail in mail_sink.received] == [("keiko@example.jp",)]


async def test_an_address_that_would_break_the_envelope_is_never_sent(database_url, mail_sink, deliver) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    await ContactAddress.filter(guardian_id=guardian.id).update(value="a@example.jp> NOTIFY=NEVER")
    await _passage_notice(guardian)

    await deliver()

    assert mail_sink.received == []
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.FAILED and "not a usable mail address" in delivery.last_error


async def test_an_address_refused_again_and_again_is_marked_failing(database_url, mail_sink, deliver) -> None:
    guardian = await make_guardian(emails=["gone@example.jp"])
    for n in range(3):
        mail_sink.answer("gone@example.jp", "550 5.1.1 No such user here")
        [address] = await counted_addresses(guardian.id)
        await enqueue(
            kind=NoticeKind.PASSAGE,
            fact=f"passage:{n}",
            address=address,
            payload={
                "pupil": "花子",
                "site": "みどり小学校",
                "direction": "arrival",
                "seen_at": SEEN.isoformat(),
                "photo_token": None,
            },
        )
        await deliver()
    address = await ContactAddress.get(guardian_id=guardian.id)
    assert address.status is AddressStatus.FAILING and address.failure_count == 3
    assert "550" in address.last_failure
    await enqueue(
        kind=NoticeKind.PASSAGE,
        fact="passage:9",
        address=address,
        payload={
            "pupil": "花子",
            "site": "みどり小学校",
            "direction": "arrival",
            "seen_at": SEEN.isoformat(),
            "photo_token": None,
        },
    )
    await deliver()
    last = await Delivery.filter(idempotency_key__startswith="passage:9").get()
    assert last.status is DeliveryStatus.FAILED and last.last_error == "the address is failing"
    assert len(mail_sink.received) == 0


async def test_notices_wait_while_the_mail_server_is_down_and_arrive_once_it_is_back(
    database_url, mail_sink, deliver
) -> None:
    mail_sink.stop()
    guardians = [await make_guardian(f"保護者 {n}", emails=[f"g{n}@example.jp"]) for n in range(20)]
    for guardian in guardians:
        await _passage_notice(guardian)

    await deliver(timeout=1)  # the server is away: every attempt fails, nothing is lost
    waiting = await Delivery.filter(status=DeliveryStatus.QUEUED).count()
    assert waiting == 20
    assert "unreachable" in (await Delivery.first()).last_error

    mail_sink.start()
    await Delivery.all().update(next_attempt_at=datetime.now(UTC))
    await deliver()

    assert mail_sink.per_recipient() == {f"g{n}@example.jp": 1 for n in range(20)}
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 20


async def test_a_late_passage_notice_expires_instead_of_arriving_late(database_url, mail_sink, deliver) -> None:
    await _passage_notice(await make_guardian(emails=["keiko@example.jp"]), expires=timedelta(seconds=-1))
    await deliver()
    delivery = await Delivery.get()
    assert delivery.status is DeliveryStatus.EXPIRED and mail_sink.received == []


async def test_passage_notices_are_claimed_before_ordinary_broadcasts(database_url) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp", "k2@example.jp"])
    for address in await counted_addresses(guardian.id):
        await enqueue(kind=NoticeKind.BROADCAST, fact="broadcast:1", address=address, priority=Priority.NORMAL)
    await _passage_notice(guardian)
    claimed = await claim_batch(
        [Channel.EMAIL], limit=2, lease=timedelta(minutes=1), now=datetime.now(UTC) + timedelta(seconds=1)
    )
    assert [d.kind for d in claimed] == [NoticeKind.PASSAGE, NoticeKind.PASSAGE]
