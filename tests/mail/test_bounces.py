"""Bounces: a guardian's failing address is noticed, not silently dropped."""

from __future__ import annotations

from core.config import Settings
from core.models import AddressStatus, Delivery, DeliveryStatus
from mail.addresses import delivery_of_return_path, return_path
from mail.bounces import is_bounce
from mail.inbound import parse_mail
from tests.imapserver import ImapServer
from tests.mail.conftest import compose, eventually, notices_to
from tests.mailsink import MailSink, ReceivedMail


def _dsn(sent: ReceivedMail, *, to: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    recipient = sent.rcpt_tos[0]
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.ezweb.ne.jp>\r\n"
        f"To: {to}\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{action}-{sent.message['Message-ID'][1:-1]}>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r\n\r\n'
        "--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.ezweb.ne.jp\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {sent.message['Message-ID']}\r\nTo: <{recipient}>\r\nSubject: notice\r\n\r\n"
        "--BOUNDARY--\r\n"
    ).encode()


async def test_permanent_bounces_fail_the_deliveries_and_then_the_address(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    address, (first, second) = await notices_to("gone@ezweb.ne.jp", 2, inbound_settings, mail_sink)
    assert first.mail_from.startswith("bounce+") and first.mail_from.endswith("@bounce.city.example.jp")

    imap_server.deliver(_dsn(first, to=first.mail_from))  # through the VERP return path
    imap_server.deliver(_dsn(first, to=first.mail_from))  # the same bounce again counts once
    await eventually(lambda: imap_server.subjects() == [])
    await address.refresh_from_db()
    assert (address.status, address.failure_count) == (AddressStatus.ACTIVE, 1)
    failed = await Delivery.get(status=DeliveryStatus.FAILED)
    assert failed.last_error == "bounced: mailbox does not exist (550 5.1.1)"

    imap_server.deliver(_dsn(second, to="mimamori@city.example.jp"))  # only the Message-ID names it
    await eventually(lambda: imap_server.subjects() == [])
    await address.refresh_from_db()
    assert address.status is AddressStatus.FAILING
    assert address.last_failure == "mailbox does not exist (550 5.1.1)"
    assert len(mail_sink.received) == 2  # no answer to a mail daemon


async def test_delays_and_forged_bounces_change_nothing(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    address, [sent] = await notices_to("slow@example.jp", 1, inbound_settings, mail_sink)
    delivery_id = (await Delivery.get()).id

    imap_server.deliver(_dsn(sent, to=sent.mail_from, action="delayed", status="4.4.7"))
    forged = _dsn(sent, to=f"bounce+{delivery_id}-0000000000@bounce.city.example.jp")
    forged = forged.replace(sent.message["Message-ID"].encode(), f"<mimamori-{delivery_id}-0000000000@x>".encode())
    imap_server.deliver(forged)
    await eventually(lambda: imap_server.subjects() == [])

    assert (await Delivery.get()).status is DeliveryStatus.SENT
    await address.refresh_from_db()
    assert (address.status, address.failure_count) == (AddressStatus.ACTIVE, 0)


def _without_message_id(dsn: bytes, sent: ReceivedMail) -> bytes:
    """The report as a server that returns no headers of the original writes it."""
    return dsn.replace(sent.message["Message-ID"].encode(), b"<unrelated@mx.ezweb.ne.jp>")


async def test_a_bounce_to_a_return_path_of_the_old_dashed_form_still_counts(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    """Mail sent before the return paths took the "+" form may still come back to the old one."""
    address, [sent] = await notices_to("gone@ezweb.ne.jp", 1, inbound_settings, mail_sink)
    dashed = sent.mail_from.replace("bounce+", "bounce-", 1)

    imap_server.deliver(_without_message_id(_dsn(sent, to=dashed), sent))
    await eventually(lambda: imap_server.subjects() == [])

    assert (await Delivery.get()).status is DeliveryStatus.FAILED
    await address.refresh_from_db()
    assert address.failure_count == 1


def test_only_a_return_path_is_taken_for_a_bounce(settings: Settings) -> None:  # its keyring keys the tags
    """The bounce mailbox also receives mail for other purposes (a receiver's one-click
    unsubscribe by mail, ``bounce+unsubscribe-…``): that is not a bounce, whatever its numbers."""
    ours = return_path(7, "bounce.city.example.jp")
    assert ours.startswith("bounce+7-") and delivery_of_return_path(ours) == 7
    assert delivery_of_return_path(ours.upper()) == 7  # a relay may change the case
    extension = ours.partition("+")[2].partition("@")[0]
    for other in (
        f"bounce+unsubscribe-{extension}@bounce.city.example.jp",
        f"bounce+{extension}x@bounce.city.example.jp",
        f"guardian+{extension}@bounce.city.example.jp",
        f"xbounce-{extension}@bounce.city.example.jp",
        "bounce@bounce.city.example.jp",
    ):
        assert delivery_of_return_path(other) is None, other
    unsubscribe = compose(
        "feedback@mail.example.com", "unsubscribe", "", to=f"bounce+unsubscribe-{extension}@bounce.city.example.jp"
    )
    assert not is_bounce(parse_mail(unsubscribe))
