"""Unsubscribing by the mailto of a broadcast's List-Unsubscribe: the mail comes to the bounce
mailbox, is read by the real IMAP reader, and stops broadcasts to that address; a forged one
changes nothing, and neither is answered nor read as a bounce."""

from __future__ import annotations

from core import broadcasts
from core.addresses import add_verified_address
from core.config import Settings
from core.models import AuditEntry, BroadcastCategory, Channel, ContactAddress, Delivery, NoticeKind
from tests.factories import confirmed_broadcast, make_guardian, make_pupil, make_site
from tests.imapserver import ImapServer
from tests.mail.conftest import arrived, compose, eventually
from tests.mailsink import MailSink


async def _a_broadcast_to_keiko(settings: Settings, sink: MailSink) -> tuple[ContactAddress, str]:
    """Keiko with two addresses receives a broadcast; its List-Unsubscribe mailto."""
    guardian = await make_guardian(pupils=[await make_pupil(await make_site())])
    address = await add_verified_address(guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await add_verified_address(guardian.id, Channel.EMAIL, "keiko.m@docomo.ne.jp", limit=2)
    await confirmed_broadcast(title="臨時休校", category=BroadcastCategory.CLOSURE)
    await broadcasts.continue_fanouts(settings)
    await arrived(sink, 2)  # sent by the worker beside the mailbox reader
    [mail] = sink.to("keiko@example.jp")
    [mailto] = [u.strip().strip("<>") for u in str(mail.message["List-Unsubscribe"]).split(",") if "mailto:" in u]
    return address, mailto.removeprefix("mailto:")


async def test_mail_to_the_unsubscribe_address_stops_broadcasts_there(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    address, unsubscribe_to = await _a_broadcast_to_keiko(inbound_settings, mail_sink)
    assert unsubscribe_to.startswith(f"bounce+unsubscribe-{address.id}-")
    sent_before = len(mail_sink.received)

    # what a mail client sends for the mailto: from the guardian, often with an automatic look
    imap_server.deliver(
        compose("keiko@example.jp", "unsubscribe", "", to=unsubscribe_to, headers={"Auto-Submitted": "auto-generated"})
    )
    await eventually(lambda: imap_server.subjects() == [])
    await address.refresh_from_db()
    assert address.broadcasts_stopped_at is not None
    [entry] = await AuditEntry.filter(action="address.stop_broadcasts")
    assert entry.details == {"channel": "email", "via": "email"}
    await arrived(mail_sink, sent_before + 1)  # the other address is told, and nobody is answered
    [told] = mail_sink.received[sent_before:]
    assert told.rcpt_tos == ("keiko.m@docomo.ne.jp",) and "一斉連絡を停止しました" in told.message["Subject"]
    assert not await Delivery.filter(kind=NoticeKind.MAIL_ANSWER).exists()


async def test_a_forged_unsubscribe_address_is_ignored(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    address, unsubscribe_to = await _a_broadcast_to_keiko(inbound_settings, mail_sink)
    forged = unsubscribe_to.replace(unsubscribe_to.split("-")[2].split("@")[0], "0" * 20)
    entries = await AuditEntry.all().count()

    imap_server.deliver(compose("mallory@example.jp", "unsubscribe", "", to=forged))
    imap_server.deliver(compose("mallory@example.jp", "unsubscribe", "", to=f"bounce+unsubscribe-{address.id}@x.jp"))
    await eventually(lambda: imap_server.subjects() == [])

    await address.refresh_from_db()
    assert address.broadcasts_stopped_at is None and address.failure_count == 0
    assert await AuditEntry.all().count() == entries
    assert len(mail_sink.received) == 2  # the broadcast's two mails; no answer to mallory, nobody told
    assert not await Delivery.filter(kind=NoticeKind.MAIL_ANSWER).exists()
