"""What a large sender must do: greet with a real name, sign with DKIM, offer one-click
unsubscribe on broadcasts only, and never say ``Precedence: bulk``."""

from __future__ import annotations

from collections.abc import Iterator

import dkim
import pytest

from core import sealing
from core.config import Settings, SettingsError, SmtpSettings, load_settings
from core.delivery.outbox import enqueue_mail_answer
from core.keyring import KeyringError
from core.models import ContactAddress
from mail.dkim_signing import SIGNED, DkimSigner, signer_for, txt_value
from tests.factories import (
    PASSAGE_SEEN,
    confirmed_broadcast,
    make_guardian,
    make_pupil,
    make_site,
    queue_passage_notice,
)
from tests.mailsink import MailSink, ReceivedMail


async def _one_of_each() -> None:
    """A passage notice, a broadcast and a mail answer to one guardian."""
    pupil = await make_pupil(await make_site())
    guardian = await make_guardian(pupils=[pupil], emails=["keiko@example.jp"])
    await queue_passage_notice(await ContactAddress.get(guardian_id=guardian.id))
    await confirmed_broadcast()
    await enqueue_mail_answer(
        to="keiko@example.jp", subject="Re: 登録", text="登録しました。", in_reply_to="<question-1@example.jp>"
    )


def _by_kind(mail_sink: MailSink) -> dict[str, ReceivedMail]:
    kinds = {}
    for mail in mail_sink.received:
        subject = mail.message["Subject"]
        kinds["answer" if subject.startswith("Re:") else "broadcast" if "休校" in subject else "passage"] = mail
    assert set(kinds) == {"answer", "broadcast", "passage"}
    return kinds


def _published(key_pem: str):
    """A resolver that knows only our published record (dkimpy asks it for the selector's TXT)."""
    record = txt_value(key_pem).encode("ascii")

    def dns(name: bytes, timeout: float = 5) -> bytes | None:
        return record if name == b"mimamori._domainkey.city.example.jp." else None

    return dns


@pytest.fixture
def dkim_key(database_url) -> Iterator[str]:
    """A DKIM key in the installed keyring for this test (the session's keyring file stays as it is)."""
    keyring = sealing.installed().keyring
    keyring.add_dkim_key()
    assert keyring.dkim_key is not None
    yield keyring.dkim_key
    keyring.dkim_key = None


async def test_the_greeting_names_the_portal_host_never_localhost(
    database_url, mail_settings: Settings, mail_sink: MailSink, deliver
) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    await queue_passage_notice(await ContactAddress.get(guardian_id=guardian.id))
    await deliver()
    assert [m.greeting for m in mail_sink.received] == ["mimamori.city.example.jp"]  # portal.public_url's host

    named = load_settings(
        None, portal={"public_url": "https://mimamori.city.example.jp"}, smtp={"helo_name": "mx1.city.example.jp"}
    )
    assert named.smtp.helo_name == "mx1.city.example.jp"
    assert load_settings(None, portal={"public_url": "http://192.0.2.7:8000"}).smtp.helo_name == "[192.0.2.7]"
    assert load_settings(None, portal={"public_url": "http://localhost:8000"}).smtp.helo_name == "[127.0.0.1]"
    with pytest.raises(SettingsError, match="^setting smtp.helo_name: .*localhost"):
        load_settings(None, smtp={"helo_name": "localhost"})


async def test_a_section_built_without_settings_still_greets_with_an_address_literal(
    database_url, mail_sink: MailSink
) -> None:
    from mail.smtp import smtp_client

    client = smtp_client(SmtpSettings(host="127.0.0.1", port=mail_sink.port))
    async with client:
        await client.ehlo()
        await client.sendmail("m@city.example.jp", ["x@example.jp"], b"Subject: x\r\n\r\nx\r\n")
    assert mail_sink.received[0].greeting == "[127.0.0.1]"


async def test_signed_mail_verifies_against_the_published_key_and_a_changed_body_does_not(
    database_url, mail_settings: Settings, mail_sink: MailSink, deliver, dkim_key: str
) -> None:
    await _one_of_each()
    signing = mail_settings.model_copy(update={"smtp": mail_settings.smtp.model_copy(update={"dkim": True})})
    from core.delivery.worker import DeliveryWorker
    from core.models import Channel
    from core.scheduler import drain
    from mail.smtp import SmtpTransport

    transport = SmtpTransport(signing.smtp)
    try:
        await drain(signing, DeliveryWorker(signing, {Channel.EMAIL: transport}), timeout=30)
    finally:
        await transport.close()

    dns = _published(dkim_key)
    for kind, mail in _by_kind(mail_sink).items():
        assert mail.data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=city.example.jp;")
        assert dkim.verify(mail.data, dnsfunc=dns), kind
        fields = dkim.util.parse_tag_value(mail.message["DKIM-Signature"].encode())
        signed = {name.strip() for name in fields[b"h"].split(b":")}
        assert {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"} <= signed, kind
        assert b"auto-submitted" in signed
        head, _, body = mail.data.partition(b"\r\n\r\n")
        changed = head + b"\r\n\r\n" + body.replace(body[:8], b"AAAAAAAA", 1)
        assert not dkim.verify(changed, dnsfunc=dns), kind
        assert not dkim.verify(mail.data.replace(b"Subject: ", b"Subject: Re: ", 1), dnsfunc=dns), kind
        assert not dkim.verify(mail.data + b"", dnsfunc=lambda name, timeout=5: None)  # nothing published
    kinds = _by_kind(mail_sink)
    broadcast_signed = dkim.util.parse_tag_value(kinds["broadcast"].message["DKIM-Signature"].encode())[b"h"]
    assert b"list-unsubscribe" in broadcast_signed and b"list-unsubscribe-post" in broadcast_signed
    answer_signed = dkim.util.parse_tag_value(kinds["answer"].message["DKIM-Signature"].encode())[b"h"]
    assert b"in-reply-to" in answer_signed and b"references" in answer_signed


def test_our_signature_is_the_one_dkimpy_itself_writes(monkeypatch, dkim_key: str) -> None:
    """Only the RSA step is OpenSSL's: for the same mail at the same second, dkimpy's own
    ``sign`` (pure-Python RSA; PKCS#1 v1.5 is deterministic) writes the same bytes."""
    from core.delivery.render import RenderedNotice
    from mail.message import build_message

    mail = build_message(
        RenderedNotice("【災害情報】大雨のため休校", "本日は臨時休校とします。", "<p>本日は臨時休校とします。</p>"),
        to="keiko@example.jp",
        from_address="mimamori@city.example.jp",
        message_id="<mimamori-1-0123456789@city.example.jp>",
        date=PASSAGE_SEEN,
        list_unsubscribe=("https://mimamori.city.example.jp/unsubscribe/1-0123456789abcdef0123",),
    )
    monkeypatch.setattr(dkim.time, "time", lambda: 1_790_000_000)
    ours = DkimSigner(dkim_key, selector="mimamori", domain="city.example.jp").signature(mail)
    headers, _ = dkim.rfc822_parse(mail)
    names = [name.lower() for name, _ in headers if name.lower() in SIGNED]
    assert b"list-unsubscribe-post" in names and b"x-auto-response-suppress" not in names
    theirs = dkim.DKIM(mail).sign(
        b"mimamori",
        b"city.example.jp",
        dkim_key.encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=names + names,
    )
    assert ours == theirs


def test_dkim_on_without_a_key_is_refused_in_one_line(database_url) -> None:
    keyring = sealing.installed().keyring
    assert keyring.dkim_key is None
    with pytest.raises(KeyringError) as refused:
        signer_for(SmtpSettings(dkim=True, from_address="m@city.example.jp"), keyring)
    assert "\n" not in str(refused.value) and "mimamori keys dkim" in str(refused.value)
    assert signer_for(SmtpSettings(from_address="m@city.example.jp"), keyring) is None  # off by default


async def test_broadcasts_offer_one_click_unsubscribe_and_nothing_else_does(
    database_url, mail_settings: Settings, mail_sink: MailSink, deliver
) -> None:
    await _one_of_each()
    await deliver()
    kinds = _by_kind(mail_sink)
    address = await ContactAddress.get()

    broadcast = kinds["broadcast"].message
    mailto, url = (uri.strip().strip("<>") for uri in str(broadcast["List-Unsubscribe"]).split(","))
    assert mailto.startswith(f"mailto:bounce+unsubscribe-{address.id}-") and mailto.endswith("@bounce.city.example.jp")
    assert url.startswith(f"https://mimamori.city.example.jp/unsubscribe/{address.id}-")
    assert mailto.split("-", 1)[1].split("@")[0] == url.rsplit("/", 1)[1]  # one token, two ways in
    assert broadcast["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert broadcast["Auto-Submitted"] == "auto-generated"
    assert "Precedence" not in broadcast  # receivers' rules for bulk mail drop or delay an alert
    for transactional in ("passage", "answer"):
        message = kinds[transactional].message
        assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message, transactional
        assert "Precedence" not in message and message["Auto-Submitted"], transactional


async def test_verification_codes_and_staff_notices_are_transactional(
    database_url, mail_settings: Settings, mail_sink: MailSink, deliver
) -> None:
    from core.models import Channel
    from core.registration import request_verification
    from core.staff_notices import notify_site_staff
    from tests.factories import make_gate, make_site_staff

    guardian = await make_guardian(emails=["keiko@example.jp"])
    await request_verification(guardian.id, Channel.EMAIL, "new@example.jp", mail_settings)
    site = await make_site()
    await make_site_staff(site, "teacher@city.example.jp")
    gate, _ = await make_gate(site)
    await notify_site_staff(site, fact="test-staff-notice", event="gate_down", gate=gate, at=PASSAGE_SEEN)
    await deliver()
    assert {r for m in mail_sink.received for r in m.rcpt_tos} == {"new@example.jp", "teacher@city.example.jp"}
    for mail in mail_sink.received:
        assert "List-Unsubscribe" not in mail.message and "Precedence" not in mail.message
