"""Guardians registering by mail, as they do from their phones."""

from __future__ import annotations

import json
from email.utils import parseaddr

from core.addresses import counted_addresses
from core.config import Settings
from core.models import AddressStatus, Channel, Delivery, Language
from core.registration import issue_link_code, request_verification
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mail.conftest import arrived, compose, eventually, send_queued
from tests.mailsink import MailSink
from tests.one_language import assert_one_language


def _full_width(code: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "\u3000" for c in code)


async def test_a_code_typed_in_full_width_on_an_old_phone_registers_the_sender(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    imap_server.deliver(
        compose(
            "Keiko Yamada <keiko@docomo.ne.jp>",
            "登録",
            f"登録コード {_full_width(code)}\nよろしくお願いします",
            charset="iso-2022-jp",
        )
    )

    await arrived(mail_sink, 1)
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value, address.status) == (
        Channel.EMAIL,
        "keiko@docomo.ne.jp",
        AddressStatus.ACTIVE,
    )
    [answer] = mail_sink.to("keiko@docomo.ne.jp")
    assert answer.message["Subject"] == "【見守り】登録が完了しました"
    assert "通知先として登録しました" in answer.text and "registered" not in answer.text  # Japanese alone
    assert_one_language(answer.text, Language.JA)
    assert answer.message["In-Reply-To"].endswith("@phone.example.jp>")
    assert answer.message["Auto-Submitted"] == "auto-replied"


async def test_the_answer_is_in_the_language_the_guardian_chose(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian(language=Language.PT_BR)

    imap_server.deliver(compose("ana@example.com.br", "código", await issue_link_code(guardian.id)))

    await arrived(mail_sink, 1)
    [answer] = mail_sink.to("ana@example.com.br")
    assert answer.message["Subject"] == "[Mimamori] Cadastro concluído"
    assert parseaddr(answer.message["From"])[0] == "Mimamori"
    assert "Este endereço agora está cadastrado" in answer.text
    assert_one_language(answer.text, Language.PT_BR)


async def test_a_wrong_code_gets_one_polite_answer(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    imap_server.deliver(compose("guess@example.jp", "登録 1234 5678 9012", "お願いします"))
    await arrived(mail_sink, 1)
    imap_server.deliver(compose("guess@example.jp", "登録 1234 5678 9013", "もう一度"))
    imap_server.deliver(compose("other@example.jp", "登録 1234 5678 9014", "お願いします"))
    await arrived(mail_sink, 2)
    await eventually(lambda: imap_server.subjects() == [])

    [answer] = mail_sink.to("guess@example.jp")
    assert answer.message["Subject"] == "【見守り】登録コードを確認できませんでした"
    assert_one_language(answer.text, Language.JA)  # nobody known: Japanese
    assert len(mail_sink.to("other@example.jp")) == 1


async def test_a_wrong_code_from_a_registered_address_is_answered_in_its_guardians_language(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    await make_guardian(emails=["lan@example.vn"], language=Language.VI)

    imap_server.deliver(compose("lan@example.vn", "mã 1234 5678 9012", "cảm ơn"))

    await arrived(mail_sink, 1)
    [answer] = mail_sink.to("lan@example.vn")
    assert answer.message["Subject"] == "[Mimamori] Không nhận ra mã"
    assert answer.text.startswith("Chúng tôi không nhận ra mã đăng ký bạn đã gửi.")
    assert_one_language(answer.text, Language.VI)


async def test_at_the_limit_the_answer_names_what_holds_the_places(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian(emails=["first@example.jp", "second@example.jp"], language=Language.EN)
    code = await issue_link_code(guardian.id)

    imap_server.deliver(compose("third@example.jp", f"コード {code}", ""))

    await arrived(mail_sink, 1)
    [answer] = mail_sink.to("third@example.jp")
    assert answer.message["Subject"] == "[Mimamori] At most 2 addresses"
    assert "  - mail fi***@example.jp\n  - mail se***@example.jp\n" in answer.text
    assert_one_language(answer.text, Language.EN)
    assert [a.value for a in await counted_addresses(guardian.id)] == ["first@example.jp", "second@example.jp"]


async def test_replying_to_the_verification_mail_confirms_the_address(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian(emails=["first@example.jp"])
    await request_verification(guardian.id, Channel.EMAIL, "new@ezweb.ne.jp", inbound_settings)
    await send_queued(inbound_settings)
    [verification] = mail_sink.to("new@ezweb.ne.jp")

    # a phone's reply: no code typed, the original quoted below
    imap_server.deliver(
        compose(
            "new@ezweb.ne.jp",
            "Re: " + verification.message["Subject"],
            "はい\n\n> " + verification.text.replace("\n", "\n> "),
            headers={"In-Reply-To": verification.message["Message-ID"]},
        )
    )

    await arrived(mail_sink, 2)
    assert [a.value for a in await counted_addresses(guardian.id)] == ["first@example.jp", "new@ezweb.ne.jp"]
    answer = mail_sink.to("new@ezweb.ne.jp")[-1]
    assert "通知先を確認しました" in answer.message["Subject"]
    assert_one_language(answer.text, Language.JA)

    imap_server.deliver(
        compose(  # replying once more changes nothing and is not taken for a wrong code
            "new@ezweb.ne.jp",
            "Re: Re:",
            "もう一度\n> " + verification.text.replace("\n", "\n> "),
            headers={"In-Reply-To": verification.message["Message-ID"]},
        )
    )
    await arrived(mail_sink, 3)
    again = mail_sink.to("new@ezweb.ne.jp")[-1]
    assert again.message["Subject"] == "【見守り】登録済みです"
    assert_one_language(again.text, Language.JA)


async def test_a_verification_code_typed_into_a_new_mail_confirms_the_address(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian()
    address = await request_verification(guardian.id, Channel.EMAIL, "new@example.jp", inbound_settings)
    code = json.loads((await Delivery.get(address_id=address.id)).payload)["code"]

    imap_server.deliver(compose("new@example.jp", "確認", f"確認コード {code}"))

    await arrived(mail_sink, 2)  # the verification mail (sent by the worker beside the reader), then the answer
    assert [a.value for a in await counted_addresses(guardian.id)] == ["new@example.jp"]


async def test_a_forwarded_notice_mail_registers_the_forwarder(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    imap_server.deliver(
        compose(
            "dad@softbank.ne.jp",
            "Fwd: 登録のご案内",
            f"お願いします\n\n---------- Forwarded message ----------\n登録コード: {code}",
        )
    )

    await arrived(mail_sink, 1)
    assert [a.value for a in await counted_addresses(guardian.id)] == ["dad@softbank.ne.jp"]


async def test_malformed_mail_is_skipped_and_the_next_one_handled(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)
    imap_server.deliver(b"\x00\xff\xfe garbage without any header\r\n\r\n\x1b$B\x7f\x7f")
    imap_server.deliver(
        b"From: =?x-broken?B?!!!?= <odd@example.jp>\r\nSubject: =?unknown-8bit?Q?=E7=99=BB?=\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x\r\n'
    )
    imap_server.deliver(compose("mom@example.jp", "登録", f"コード {code}", charset="shift_jis"))

    await arrived(mail_sink, 1)
    await eventually(lambda: imap_server.subjects() == [])
    assert [a.value for a in await counted_addresses(guardian.id)] == ["mom@example.jp"]
    assert mail_sink.to("mom@example.jp")
