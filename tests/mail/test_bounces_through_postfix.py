"""Bounces as deployed: Mimamori sends through a real Postfix, set up as the README says, which
relays to a remote MX that refuses some guardians; Postfix's own reports come back to the
return path, through the bounce alias into the mailbox Mimamori reads (Dovecot, by LMTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import Settings
from core.models import AddressStatus, Delivery, DeliveryStatus
from tests.imapserver import ImapServer
from tests.mail.conftest import eventually, notices_to
from tests.mailsink import MailSink
from tests.postfixserver import PostfixServer

BOUNCE_DOMAIN = "bounce.city.example.jp"
MAILBOX = "mimamori@city.example.jp"  # guardians write here; the bounce alias delivers here too


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """The mailbox Mimamori reads, with the LMTP port Postfix delivers to."""
    server = ImapServer(lmtp=True).start()
    yield server
    server.remove()


@pytest.fixture
def postfix(imap_server: ImapServer, mail_sink: MailSink) -> Iterator[PostfixServer]:
    """The city's relay; ``mail_sink`` is the next hop of every mail it relays, the guardians'
    providers (the "remote MX")."""
    server = PostfixServer(
        bounce_domain=BOUNCE_DOMAIN, mailbox=MAILBOX, lmtp_port=imap_server.lmtp_port, next_hop_port=mail_sink.port
    ).start()
    yield server
    server.remove()


@pytest.fixture
def inbound_settings(inbound_settings: Settings, postfix: PostfixServer) -> Settings:
    """The mail tests' settings, sending through Postfix rather than straight to the sink."""
    assert (inbound_settings.smtp.from_address, inbound_settings.smtp.bounce_domain) == (MAILBOX, BOUNCE_DOMAIN)
    return inbound_settings.model_copy(update={"smtp": inbound_settings.smtp.model_copy(update={"port": postfix.port})})


async def _reports_read(mailbox: ImapServer, subject: str, count: int) -> None:
    """Until ``count`` reports with ``subject`` have been read and filed away by Mimamori."""
    await eventually(lambda: mailbox.subjects("Done").count(subject) >= count and mailbox.subjects() == [], 60)


@pytest.mark.slow
async def test_a_refused_mailbox_fails_through_postfixs_own_bounces_and_a_full_one_only_waits(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, postfix: PostfixServer, inbox
) -> None:
    mail_sink.refuse("gone@ezweb.ne.jp", "550 5.1.1 <gone@ezweb.ne.jp>: Recipient address rejected: User unknown")
    mail_sink.refuse("busy@docomo.ne.jp", "452 4.2.2 <busy@docomo.ne.jp>: Mailbox full, try again later")

    gone, _ = await notices_to("gone@ezweb.ne.jp", 2, inbound_settings, mail_sink)
    busy, _ = await notices_to("busy@docomo.ne.jp", 2, inbound_settings, mail_sink)

    await _reports_read(imap_server, "Undelivered Mail Returned to Sender", 2)
    await _reports_read(imap_server, "Delayed Mail (still being retried)", 2)
    assert mail_sink.received == [] and len(mail_sink.attempts_to("gone@ezweb.ne.jp")) == 2
    assert len(mail_sink.attempts_to("busy@docomo.ne.jp")) >= 2  # Postfix keeps trying the full one
    await gone.refresh_from_db()
    assert gone.status is AddressStatus.FAILING, postfix.log()
    assert gone.last_failure == "mailbox does not exist (550 5.1.1)"
    assert {d.last_error for d in await Delivery.filter(address_id=gone.id)} == {
        "bounced: mailbox does not exist (550 5.1.1)"
    }
    await busy.refresh_from_db()
    assert (busy.status, busy.failure_count) == (AddressStatus.ACTIVE, 0), postfix.log()
    assert await Delivery.filter(address_id=busy.id, status=DeliveryStatus.SENT).count() == 2
