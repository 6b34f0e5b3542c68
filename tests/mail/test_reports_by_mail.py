"""Mail is not authentication: a report by mail gets the portal link, never a recorded report."""

from __future__ import annotations

from core.config import Settings
from core.models import AbsenceReport, Language
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mail.conftest import arrived, compose, eventually
from tests.mailsink import MailSink
from tests.one_language import assert_one_language

LINK = "https://mimamori.city.example.jp/absences"


async def test_an_absence_report_by_mail_is_answered_with_the_portal_link_and_not_recorded(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    await make_guardian(emails=["keiko@docomo.ne.jp"])

    imap_server.deliver(
        compose("keiko@docomo.ne.jp", "欠席連絡", "今日は熱があるので欠席します。", charset="iso-2022-jp")
    )

    await arrived(mail_sink, 1)
    [answer] = mail_sink.to("keiko@docomo.ne.jp")
    assert answer.message["Subject"] == "【見守り】欠席・遅刻の連絡はポータルからお願いします"
    assert LINK in answer.text and "記録していません" in answer.text
    assert_one_language(answer.text, Language.JA)
    assert answer.message["Auto-Submitted"] == "auto-replied"
    assert await AbsenceReport.all().count() == 0


async def test_a_forged_report_from_an_unknown_sender_gets_the_link_once(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    imap_server.deliver(compose("someone@example.jp", "遅刻します", "10時に登校します"))
    await arrived(mail_sink, 1)
    imap_server.deliver(compose("someone@example.jp", "早退", "12時に迎えに行きます"))
    imap_server.deliver(compose("hello@example.jp", "こんにちは", "よろしくお願いします"))  # not a report
    await eventually(lambda: imap_server.subjects() == [])

    [answer] = mail_sink.to("someone@example.jp")
    assert LINK in answer.text
    assert mail_sink.to("hello@example.jp") == []
    assert await AbsenceReport.all().count() == 0


async def test_any_mail_from_a_guardian_is_answered_in_their_language(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    await make_guardian(emails=["ana@example.com.br"], language=Language.PT_BR)

    imap_server.deliver(compose("ana@example.com.br", "Olá", "Meu filho não vai hoje."))

    await arrived(mail_sink, 1)
    [answer] = mail_sink.to("ana@example.com.br")
    assert answer.message["Subject"] == "[Mimamori] Por favor, informe ausências pelo portal"
    assert LINK in answer.text
    assert_one_language(answer.text, Language.PT_BR)


async def test_an_auto_reply_that_reads_like_a_report_is_not_answered(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    await make_guardian(emails=["away@example.jp"])

    imap_server.deliver(
        compose("away@example.jp", "不在通知：欠席", "休暇中です", headers={"Auto-Submitted": "auto-replied"})
    )
    await eventually(lambda: imap_server.subjects() == [])

    assert mail_sink.to("away@example.jp") == []
