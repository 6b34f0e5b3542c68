"""No mail loop can form: automatic mail, lists and our own mail are never answered, and answers
to one sender are limited."""

from __future__ import annotations

from core.config import Settings
from core.models import Delivery, NoticeKind
from core.registration import issue_link_code
from tests.factories import make_guardian
from tests.imapserver import ImapServer
from tests.mail.conftest import arrived, compose, eventually
from tests.mailsink import MailSink


async def test_automatic_list_and_own_mail_is_never_answered(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    codes = [await issue_link_code((await make_guardian()).id) for _ in range(4)]
    imap_server.deliver(
        compose("ooo@example.jp", f"Re: {codes[0]}", "不在です", headers={"Auto-Submitted": "auto-replied"})
    )
    imap_server.deliver(compose("list@example.jp", f"{codes[1]}", "", headers={"List-Id": "<pta.example.jp>"}))
    imap_server.deliver(compose("bulk@example.jp", f"{codes[2]}", "", headers={"Precedence": "bulk"}))
    imap_server.deliver(compose("mimamori@city.example.jp", f"{codes[3]}", "自分自身"))
    imap_server.deliver(compose("guardian@example.jp", f"登録 {codes[3]}", "", headers={"Return-Path": "<>"}))

    await eventually(lambda: imap_server.subjects() == [])
    assert not await Delivery.filter(kind=NoticeKind.MAIL_ANSWER).exists()
    assert mail_sink.received == []


async def test_an_autoresponder_that_answers_every_answer_is_answered_once(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    # a badly written autoresponder: no Auto-Submitted header, and it repeats the code it was sent
    for round_trip in range(4):
        imap_server.deliver(
            compose(
                "robot@example.jp",
                "登録 1111 2222 3333",
                f"自動応答 {round_trip}",
            )
        )
        await eventually(lambda: imap_server.subjects() == [])
    await arrived(mail_sink, 1)
    assert len(mail_sink.to("robot@example.jp")) == 1


async def test_answers_to_one_sender_are_limited(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    guardian = await make_guardian()
    for n in range(inbound_settings.imap.replies_per_hour + 3):
        code = await issue_link_code(guardian.id)
        imap_server.deliver(compose("busy@example.jp", f"登録 {code}", f"{n}"))
        await eventually(lambda: imap_server.subjects() == [])
    await arrived(mail_sink, inbound_settings.imap.replies_per_hour)
    assert len(mail_sink.to("busy@example.jp")) == inbound_settings.imap.replies_per_hour
