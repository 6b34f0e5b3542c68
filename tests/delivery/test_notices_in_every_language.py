"""A guardian's notices by mail come in the guardian's language, one language per mail: the
passage notice (subject, text, HTML, sender), the notice that a chat blocked us, the mail
confirming a new address and the notice that an address unsubscribed from broadcasts; a staff
member's gate notices in theirs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parseaddr

from core.addresses import add_verified_address, address_index
from core.delivery.outcomes import record_outcomes
from core.delivery.transport import PermanentFailure
from core.models import (
    Channel,
    ContactAddress,
    Delivery,
    Language,
    NoticeKind,
    StaffAccount,
)
from core.registration import request_verification
from core.staff_notices import notify_site_staff
from core.unsubscribe import stop_broadcasts
from tests.factories import make_gate, make_guardian, make_site, make_site_staff, queue_passage_notice
from tests.one_language import assert_one_language

SEEN = datetime(2026, 11, 25, 22, 58, 10, tzinfo=UTC)  # 7:58 on the 26th in Tokyo
NAMES = ["花子", "みどり小学校"]
SUBJECTS = {  # as each language writes the time: 7:58 in Tokyo, whatever the server's zone
    Language.JA: "【見守り】花子さん 登校 7:58",
    Language.JA_EASY: "【みまもり】花子さん 学校に来ました 7:58",
    Language.EN: "[Mimamori] 花子 arrived 7:58 AM",
    Language.ZH_HANS: "【Mimamori】花子 07:58 到校",
    Language.PT_BR: "[Mimamori] 花子 chegou às 07:58",
    Language.VI: "[Mimamori] 花子 đến trường lúc 07:58",
    Language.FIL: "[Mimamori] Dumating si 花子, 7:58 AM",
}


async def _guardians_in_every_language() -> dict[str, Language]:
    """One guardian per language, each with a mail address: the address -> the language."""
    addresses = {}
    for n, language in enumerate(Language):
        await make_guardian(f"保護者 {n}", emails=[f"parent{n}@example.jp"], language=language)
        addresses[f"parent{n}@example.jp"] = language
    return addresses


async def test_a_passage_notice_is_in_each_guardians_language(database_url, mail_sink, deliver) -> None:
    languages = await _guardians_in_every_language()
    for address in await ContactAddress.all():
        await queue_passage_notice(address, seen_at=SEEN, photo_token="PHOTO-TOKEN-1")

    await deliver()

    assert len(mail_sink.received) == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        message = mail.message
        assert message["Subject"] == SUBJECTS[language]
        html = message.get_body(("html",)).get_content()
        assert f'<html lang="{language}">' in html
        for shown in (message["Subject"], mail.text, html, parseaddr(message["From"])[0]):
            assert_one_language(shown, language, names=NAMES)
        assert "https://mimamori.city.example.jp/photos/PHOTO-TOKEN-1" in mail.text
    by_language = {languages[m.rcpt_tos[0]]: m for m in mail_sink.received}
    assert "花子さんが7:58にみどり小学校に登校しました。" in by_language[Language.JA].text
    assert "花子 arrived at みどり小学校 at 7:58\u202fAM." in by_language[Language.EN].text  # CLDR: a narrow space
    assert parseaddr(by_language[Language.JA].message["From"])[0] == "見守り"
    assert parseaddr(by_language[Language.EN].message["From"])[0] == "Mimamori"


async def test_the_other_address_is_told_in_the_guardians_language_that_a_chat_blocked_us(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    languages = await _guardians_in_every_language()
    for address in await ContactAddress.all():
        line = await add_verified_address(address.guardian_id, Channel.LINE, f"U-{address.guardian_id}", limit=2)
        to_line = await queue_passage_notice(line, seen_at=SEEN, direction="departure")
        blocked = PermanentFailure("LINE: the user blocked the account (403)", address_verdict="blocked")
        await record_outcomes([(to_line, blocked)], mail_settings.delivery, datetime.now(UTC))

    await deliver()

    assert await Delivery.filter(kind=NoticeKind.ADDRESS_INACTIVE).count() == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        assert "LINE" in mail.message["Subject"]
        assert "https://mimamori.city.example.jp/addresses" in mail.text
        for shown in (mail.message["Subject"], mail.text):
            assert_one_language(shown, language, names=NAMES)
    by_language = {languages[m.rcpt_tos[0]]: m for m in mail_sink.received}
    assert by_language[Language.JA].message["Subject"] == "【見守り】LINEにお知らせを届けられなくなりました"
    assert by_language[Language.EN].message["Subject"] == "[Mimamori] We can no longer reach you on LINE"


async def test_the_mail_confirming_a_new_address_is_in_the_guardians_language(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    languages, codes = {}, {}
    for n, language in enumerate(Language):
        guardian = await make_guardian(f"保護者 {n}", language=language)
        address = await request_verification(guardian.id, Channel.EMAIL, f"new{n}@example.jp", mail_settings)
        languages[f"new{n}@example.jp"] = language
        codes[f"new{n}@example.jp"] = json.loads((await Delivery.get(address_id=address.id)).payload)["code"]

    await deliver()

    assert len(mail_sink.received) == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        assert codes[mail.rcpt_tos[0]] in mail.text
        for shown in (mail.message["Subject"], mail.text, parseaddr(mail.message["From"])[0]):
            assert_one_language(shown, language)
    by_language = {languages[m.rcpt_tos[0]]: m for m in mail_sink.received}
    assert by_language[Language.JA].message["Subject"] == "【見守り】通知先の確認"
    assert by_language[Language.EN].message["Subject"] == "[Mimamori] Please confirm this address"
    assert by_language[Language.VI].text.startswith("Địa chỉ này đã được thêm để nhận thông báo của Mimamori.")


async def test_the_other_address_is_told_in_the_guardians_language_that_broadcasts_were_stopped(
    database_url, mail_sink, deliver
) -> None:
    languages = {}
    for n, language in enumerate(Language):
        guardian = await make_guardian(
            f"保護者 {n}", emails=[f"kept{n}@example.jp", f"stop{n}@example.jp"], language=language
        )
        languages[f"kept{n}@example.jp"] = language
        await stop_broadcasts(
            await ContactAddress.get(guardian_id=guardian.id, value_index=_index(f"stop{n}@example.jp")), via="email"
        )

    await deliver()

    assert len(mail_sink.received) == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        assert "https://mimamori.city.example.jp/addresses" in mail.text
        for shown in (mail.message["Subject"], mail.text):
            assert_one_language(shown, language, names=["st***@example.jp"])
    by_language = {languages[m.rcpt_tos[0]]: m for m in mail_sink.received}
    assert (
        by_language[Language.JA].message["Subject"] == "【見守り】メール（st***@example.jp）への一斉連絡を停止しました"
    )
    assert "「一斉連絡を再開」" in by_language[Language.JA].text
    assert by_language[Language.PT_BR].message["Subject"] == (
        "[Mimamori] Os comunicados para o seu endereço e-mail (st***@example.jp) foram interrompidos"
    )


async def test_a_gate_notice_reaches_each_staff_member_in_their_language(database_url, mail_sink, deliver) -> None:
    site = await make_site()
    gate, _ = await make_gate(site)
    for login_id, language in (("kato", Language.JA), ("smith", Language.EN)):
        staff = await make_site_staff(site, f"{login_id}@school.example.jp", login_id)
        await StaffAccount.filter(id=staff.id).update(language=language)

    assert await notify_site_staff(site, fact="gate-down:1", event="gate_down", gate=gate, at=SEEN) == 2
    await deliver()

    by_login = {m.rcpt_tos[0].split("@")[0]: m for m in mail_sink.received}
    assert by_login["kato"].message["Subject"] == "【見守り・職員】ゲート応答なし: みどり小学校 正門"
    assert "みどり小学校の正門から7:58以降、連絡がありません。" in by_login["kato"].text
    assert by_login["smith"].message["Subject"] == "[Mimamori staff] Gate silent: みどり小学校 正門"
    assert "正門 at みどり小学校 has been silent since 7:58\u202fAM." in by_login["smith"].text
    for login_id, language in (("kato", Language.JA), ("smith", Language.EN)):
        for shown in (by_login[login_id].message["Subject"], by_login[login_id].text):
            assert_one_language(shown, language, names=["みどり小学校", "正門"])


def _index(email: str) -> str:
    return address_index(Channel.EMAIL, email)
