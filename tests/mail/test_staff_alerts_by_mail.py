"""Staff alerts by mail: a draft and a link, never a broadcast sent on the strength of a From."""

from __future__ import annotations

from datetime import UTC, datetime

from core.addresses import address_index
from core.config import Settings
from core.models import (
    Broadcast,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    Delivery,
    Language,
    NoticeKind,
    StaffAccount,
    StaffAddress,
    StaffRole,
)
from tests.factories import make_guardian, make_pupil, make_site
from tests.imapserver import ImapServer
from tests.mail.conftest import arrived, compose, eventually
from tests.mailsink import MailSink
from tests.one_language import assert_one_language

ALERTS = "alerts@city.example.jp"


async def _staff(email: str, role: StaffRole = StaffRole.STAFF) -> StaffAccount:
    site = await make_site()
    await make_guardian(pupils=[await make_pupil(site)], emails=["parent@example.jp"])
    staff = await StaffAccount.create(login_id="kato", role=role, password_hash="unusable")
    await staff.sites.add(site)
    await StaffAddress.create(
        staff=staff,
        channel=Channel.EMAIL,
        value=email,
        value_index=address_index(Channel.EMAIL, email),
        verified_at=datetime.now(UTC),
    )
    return staff


async def test_an_alert_mailed_by_staff_becomes_a_draft_and_a_link_to_confirm_it(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    staff = await _staff("kato@school.city.example.jp")

    imap_server.deliver(
        compose(
            "加藤 <kato@school.city.example.jp>",
            "不審者情報",
            "本日15時ごろ、正門付近で不審な人物が目撃されました。\n集団下校します。",
            to=ALERTS,
            charset="iso-2022-jp",
        )
    )

    await arrived(mail_sink, 1)
    draft = await Broadcast.get()
    assert (draft.status, draft.category, draft.author_id) == (
        BroadcastStatus.DRAFT,
        BroadcastCategory.SUSPICIOUS_PERSON,
        staff.id,
    )
    assert draft.title == "不審者情報" and "集団下校します" in draft.body
    assert draft.scope["targets"][0]["site"] == "みどり小学校"
    [answer] = mail_sink.to("kato@school.city.example.jp")
    assert answer.message["Subject"].startswith("【見守り・職員】下書きを作成しました")
    assert f"https://mimamori.city.example.jp/staff/broadcasts/{draft.id}" in answer.text
    assert "二段階認証" in answer.text and "送信先: みどり小学校" in answer.text
    assert_one_language(answer.text, Language.JA, names=["みどり小学校"])
    assert not await Delivery.exclude(
        kind=NoticeKind.MAIL_ANSWER
    ).exists()  # nothing goes to guardians until confirmed on the portal


async def test_a_forged_alert_sends_nothing_and_tells_the_forger_nothing(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    await _staff("kato@school.city.example.jp")

    imap_server.deliver(compose("intruder@evil.example", "休校のお知らせ", "明日は休校です。", to=ALERTS))
    imap_server.deliver(
        compose(
            "kato@school.city.example.jp",
            "地震のため休校",
            "明日は休校です。",
            to=ALERTS,
            headers={"Reply-To": "intruder@evil.example"},
        )
    )

    await arrived(mail_sink, 1)
    await eventually(lambda: imap_server.subjects() == [])
    assert [b.status for b in await Broadcast.all()] == [BroadcastStatus.DRAFT]  # the forged From: a draft only
    assert not await Delivery.exclude(kind=NoticeKind.MAIL_ANSWER).exists()
    assert mail_sink.to("intruder@evil.example") == []
    assert len(mail_sink.to("kato@school.city.example.jp")) == 1  # the real owner learns of it


async def test_staff_without_a_site_get_the_reason_instead_of_a_draft(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    staff = await _staff("desk@city.example.jp", role=StaffRole.SUPPORT)
    await StaffAccount.filter(id=staff.id).update(language=Language.EN)

    imap_server.deliver(compose("desk@city.example.jp", "お知らせ", "テスト", to=ALERTS))

    await arrived(mail_sink, 1)
    assert not await Broadcast.exists()
    [answer] = mail_sink.to("desk@city.example.jp")
    assert answer.message["Subject"] == "[Mimamori staff] Draft not created"
    assert "Reason: This account cannot send broadcasts." in answer.text
    assert_one_language(answer.text, Language.EN)
    assert staff.role is StaffRole.SUPPORT


async def test_an_administrator_drafts_for_the_whole_city_and_an_unverified_address_counts_for_nothing(
    inbound_settings: Settings, imap_server: ImapServer, mail_sink: MailSink, inbox
) -> None:
    admin = await _staff("board@city.example.jp", role=StaffRole.ADMIN)
    await StaffAddress.create(
        staff=admin,
        channel=Channel.EMAIL,
        value="unproven@city.example.jp",
        value_index=address_index(Channel.EMAIL, "unproven@city.example.jp"),
    )

    imap_server.deliver(compose("unproven@city.example.jp", "台風接近", "明日は休校", to=ALERTS))
    imap_server.deliver(compose("board@city.example.jp", "台風接近のため休校", "全校休校とします。", to=ALERTS))

    await arrived(mail_sink, 1)
    await eventually(lambda: imap_server.subjects() == [])
    [draft] = await Broadcast.all()
    assert (draft.scope, draft.category, draft.title) == (
        {"all": True},
        BroadcastCategory.DISASTER,
        "台風接近のため休校",
    )
    assert mail_sink.to("unproven@city.example.jp") == []
