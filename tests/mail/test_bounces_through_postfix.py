"""Bounces as deployed: Mimamori sends through a real Postfix, set up as the README says, which
relays to a remote MX that refuses some guardians; Postfix's own reports come back to the
return path, through the bounce alias into the mailbox Mimamori reads (Dovecot, by LMTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import Settings, load_settings
from core.delivery.outbox import enqueue
from core.models import AddressStatus, ContactAddress, Delivery, DeliveryStatus, NoticeKind
from mail.imap_poller import ImapPoller
from mail.inbox import Inbox
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mail.conftest import eventually, send_queued
from tests.mailsink import MailSink
from tests.postfixserver import PostfixServer

BOUNCE_DOMAIN = "bounce.city.example.jp"
MAILBOX = "mimamori@city.example.jp"  # guardians write here; the bounce alias delivers here too


@pytest.fixture
def mailbox() -> Iterator[ImapServer]:
    server = ImapServer(lmtp=True).start()
    yield server
    server.remove()


@pytest.fixture
def remote_mx() -> Iterator[MailSink]:
    """The guardians' providers: the next hop of every mail Postfix relays."""
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def postfix(mailbox: ImapServer, remote_mx: MailSink) -> Iterator[PostfixServer]:
    server = PostfixServer(
        bounce_domain=BOUNCE_DOMAIN, mailbox=MAILBOX, lmtp_port=mailbox.lmtp_port, next_hop_port=remote_mx.port
    ).start()
    yield server
    server.remove()


@pytest.fixture
def relayed(settings: Settings, mailbox: ImapServer, postfix: PostfixServer) -> Settings:
    return load_settings(
        None,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        keyring=settings.keyring,
        smtp={"host": "127.0.0.1", "port": postfix.port, "from_address": MAILBOX, "bounce_domain": BOUNCE_DOMAIN},
        imap={
            "host": "127.0.0.1",
            "port": mailbox.port,
            "username": mailbox.user,
            "password": mailbox.password,
            "done_folder": "Done",
            "timeout_seconds": 5,
            "backoff_max_seconds": 1,
        },
        delivery={"failing_after": 2, "poll_seconds": 0.02},
    )


async def _notices_to(value: str, count: int, settings: Settings) -> ContactAddress:
    """``count`` notices to a guardian's only address, handed to Postfix (which accepts them all)."""
    guardian = await make_guardian(emails=[value])
    address = await ContactAddress.get(guardian_id=guardian.id)
    for n in range(count):
        await enqueue(
            kind=NoticeKind.ADDRESS_INACTIVE, fact=f"notice-{n}", address=address, payload={"inactive_channel": "line"}
        )
    await send_queued(settings)
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == count
    return address


async def _reports_read(mailbox: ImapServer, subject: str, count: int) -> None:
    """Until ``count`` reports with ``subject`` have been read and filed away by Mimamori."""
    await eventually(lambda: mailbox.subjects("Done").count(subject) >= count and mailbox.subjects() == [], 60)


@pytest.mark.slow
async def test_a_mailbox_the_remote_mx_refuses_becomes_failing_through_postfixs_own_bounces(
    relayed: Settings, mailbox: ImapServer, remote_mx: MailSink, postfix: PostfixServer, start_poller
) -> None:
    remote_mx.refuse("gone@ezweb.ne.jp", "550 5.1.1 <gone@ezweb.ne.jp>: Recipient address rejected: User unknown")
    inbox = Inbox(relayed)
    await start_poller(ImapPoller(relayed.imap, inbox.handle, after_batch=inbox.answers_queued))

    address = await _notices_to("gone@ezweb.ne.jp", 2, relayed)

    await _reports_read(mailbox, "Undelivered Mail Returned to Sender", 2)
    assert len(remote_mx.attempts_to("gone@ezweb.ne.jp")) == 2 and remote_mx.received == []
    await address.refresh_from_db()
    assert address.status is AddressStatus.FAILING, postfix.log()
    assert address.last_failure == "mailbox does not exist (550 5.1.1)"
    assert {d.last_error for d in await Delivery.all()} == {"bounced: mailbox does not exist (550 5.1.1)"}
    assert "status=bounced" in postfix.log()


@pytest.mark.slow
async def test_a_delayed_mail_warning_from_postfix_counts_for_nothing(
    relayed: Settings, mailbox: ImapServer, remote_mx: MailSink, postfix: PostfixServer, start_poller
) -> None:
    remote_mx.refuse("busy@docomo.ne.jp", "452 4.2.2 <busy@docomo.ne.jp>: Mailbox full, try again later")
    inbox = Inbox(relayed)
    await start_poller(ImapPoller(relayed.imap, inbox.handle, after_batch=inbox.answers_queued))

    address = await _notices_to("busy@docomo.ne.jp", 2, relayed)

    await _reports_read(mailbox, "Delayed Mail (still being retried)", 2)
    assert len(remote_mx.attempts_to("busy@docomo.ne.jp")) >= 2  # Postfix keeps trying
    await address.refresh_from_db()
    assert (address.status, address.failure_count) == (AddressStatus.ACTIVE, 0)
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 2
