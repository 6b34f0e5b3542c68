"""Reading mail as phones and mail servers really send it."""

from __future__ import annotations

import base64

from mail.inbound import fresh_text, parse_mail
from tests.imapserver import ImapServer


def _iso2022(text: str, codec: str = "iso2022_jp") -> bytes:
    return text.encode(codec)


def test_an_iso_2022_jp_mail_from_an_old_phone_reads_as_japanese() -> None:
    subject = base64.b64encode(_iso2022("登録します")).decode()
    body = _iso2022("コード　１２３４ ５６７８ ９０１２\nよろしくお願いします\n")
    mail = parse_mail(
        b"From: =?ISO-2022-JP?B?" + base64.b64encode(_iso2022("山田")) + b"?= <Keiko@DoCoMo.ne.jp>\r\n"
        b"To: mimamori@city.example.jp\r\n"
        b"Subject: =?ISO-2022-JP?B?" + subject.encode() + b"?=\r\n"
        b"Message-ID: <abc@docomo.ne.jp>\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body
    )
    assert mail.sender == "keiko@docomo.ne.jp"
    assert mail.subject == "登録します"
    assert "１２３４ ５６７８ ９０１２" in mail.text
    assert mail.recipients == ("mimamori@city.example.jp",)
    assert mail.message_id == "<abc@docomo.ne.jp>" and not mail.automatic


def test_vendor_characters_in_shift_jis_and_iso_2022_jp_are_not_lost() -> None:
    sjis = parse_mail(
        b"From: a@ezweb.ne.jp\r\nSubject: x\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n"
        + "①番の髙橋です".encode("cp932")
    )
    assert sjis.text == "①番の髙橋です"
    jis = parse_mail(
        b"From: a@softbank.ne.jp\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
        + b"\x1b$B\x2d\x21"
        + "番です".encode("iso2022_jp")[3:-3]
        + b"\x1b(B ok\r\n"  # ① is NEC row 13
    )
    assert jis.text == "①番です ok\n"


def test_an_unknown_charset_and_broken_mime_still_give_a_readable_mail() -> None:
    mail = parse_mail(
        b"From: broken@example.jp\r\nSubject: =?x-nonsense?Q?hello?=\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unheard-of\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all\r\n"
    )
    assert mail.sender == "broken@example.jp"
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)


def test_an_html_only_mail_is_read_as_text() -> None:
    mail = parse_mail(
        b"From: a@example.jp\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>code 1234 5678 9012</p><style>p{}</style></body></html>"
    )
    assert mail.text == "code 1234 5678 9012"


def test_the_quoted_original_is_not_part_of_a_reply() -> None:
    reply = "登録お願いします\n\n2026/11/25 10:00 見守り <m@city.example.jp>:\n> 確認コード: 1111 2222 3333\n"
    assert fresh_text(reply).startswith("登録お願いします")
    assert "1111" not in fresh_text(reply)
    outlook = "ok\n-----Original Message-----\nFrom: x\n確認コード: 1111 2222 3333"
    assert fresh_text(outlook) == "ok"
    japanese = "はい\n山田さんは書きました:\n確認コード 1111 2222 3333"
    assert fresh_text(japanese) == "はい"


def test_automatic_mail_is_recognised() -> None:
    def automatic(header: str) -> bool:
        return parse_mail(f"From: a@example.jp\r\n{header}\r\nSubject: x\r\n\r\nbody".encode()).automatic

    assert automatic("Auto-Submitted: auto-replied")
    assert not automatic("Auto-Submitted: no")
    assert automatic("Precedence: bulk")
    assert automatic("List-Id: <parents.school.example.jp>")
    assert not automatic("X-Mailer: docomo")
    assert parse_mail(b"Return-Path: <>\r\nFrom: MAILER-DAEMON@x\r\n\r\n").return_path == ""


def test_the_private_dovecot_serves_what_was_delivered_without_marking_it_seen(imap_server: ImapServer) -> None:
    imap_server.deliver(b"From: a@example.jp\r\nSubject: hello\r\n\r\nbody\r\n")
    assert imap_server.subjects() == ["hello"]
    assert "\\Seen" not in imap_server.flags()[0]
