"""A guardian's notices by mail come in the guardian's language, one language per mail: the
passage notice (subject, text, HTML, sender) and the notice that a chat blocked us."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr

from core.addresses import add_verified_address
from core.delivery.outcomes import record_outcomes
from core.delivery.transport import PermanentFailure
from core.models import Channel, ContactAddress, Delivery, Language, NoticeKind
from tests.factories import make_guardian, queue_passage_notice
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
