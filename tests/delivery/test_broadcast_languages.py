"""A broadcast in every family's language: staff's translation where they wrote one, else the
Japanese text after a sentence in the reader's language; rendered once per language, not per mail."""

from __future__ import annotations

from core import broadcasts
from core.delivery import compose
from core.models import BroadcastCategory, Language
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language

TITLE, BODY = "不審者の目撃情報", "正門付近で不審な人物が目撃されました。\nお迎えをお願いします。"
ENGLISH = ("A stranger near the gate", "A stranger was seen near the main gate.\nPlease pick your child up.")
SUBJECTS = {
    Language.JA: "【不審者情報】不審者の目撃情報",
    Language.JA_EASY: "【あやしい人の じょうほう】不審者の目撃情報",
    Language.EN: "[Suspicious person] A stranger near the gate",
    Language.ZH_HANS: "【可疑人员信息】不審者の目撃情報",
    Language.PT_BR: "[Pessoa suspeita] 不審者の目撃情報",
    Language.VI: "[Người khả nghi] 不審者の目撃情報",
    Language.FIL: "[Kahina-hinalang tao] 不審者の目撃情報",
}
FRAMES = {  # "This is a notice from the school (in Japanese)."
    Language.JA_EASY: "学校からの おしらせです（ふつうの 日本語です）。",
    Language.ZH_HANS: "这是学校发来的通知（日语）。",
    Language.PT_BR: "Este é um aviso da escola (em japonês).",
    Language.VI: "Đây là thông báo từ nhà trường (bằng tiếng Nhật).",
    Language.FIL: "Ito ay abiso mula sa paaralan (sa wikang Hapon).",
}


async def test_each_family_reads_the_broadcast_in_its_language_and_it_is_rendered_once_per_language(
    database_url, mail_settings, mail_sink, deliver, monkeypatch
) -> None:
    site = await make_site("みどり小学校")
    pupil = await make_pupil(site)
    languages = {}
    for n, language in enumerate(Language):
        for twin in (1, 2):
            address = f"parent{n}-{twin}@example.jp"
            await make_guardian(f"保護者 {n}-{twin}", pupils=[pupil], emails=[address], language=language)
            languages[address] = language
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.SUSPICIOUS_PERSON,
        title=TITLE,
        body=BODY,
        ack_requested=False,
        translated={Language.EN: ENGLISH},
    )
    await broadcasts.confirm(draft.id, by=None)
    rendered: list[tuple[object, ...]] = []
    counted = compose.broadcast_notice

    def counting(*args: object) -> object:
        rendered.append(args[1:3])  # (channel, language)
        return counted(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compose, "broadcast_notice", counting)

    await deliver()

    assert len(mail_sink.received) == 2 * len(Language)
    assert sorted(rendered) == sorted({(c, lang) for c, lang in rendered}) and len(rendered) == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        text = mail.text.replace("\r\n", "\n")
        assert mail.message["Subject"] == SUBJECTS[language]
        if language is Language.EN:
            assert ENGLISH[1] in text and "不審" not in text
        else:
            assert BODY in text
        if language in FRAMES:
            assert text.startswith(FRAMES[language] + "\n\n" + BODY)
        elif language is Language.JA:
            assert text.startswith(BODY)
        html = mail.message.get_body(("html",)).get_content()
        for shown in (mail.message["Subject"], text, html):
            assert_one_language(shown, language, names=[TITLE, *BODY.split("\n"), "みどり小学校"])


async def test_a_title_that_starts_with_its_category_is_not_given_it_twice(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    """Before: 【不審者情報】【不審者情報】正門付近で目撃."""
    site = await make_site("みどり小学校")
    pupil = await make_pupil(site)
    await make_guardian(pupils=[pupil], emails=["ja@example.jp"])
    await make_guardian(pupils=[pupil], emails=["en@example.jp"], language=Language.EN)
    await make_guardian(pupils=[pupil], emails=["vi@example.jp"], language=Language.VI)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.SUSPICIOUS_PERSON,
        title="【不審者情報】正門付近で目撃",
        body="本文",
        ack_requested=False,
        translated={Language.EN: ("Suspicious person: seen near the gate", "Body")},
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()

    subjects = {m.rcpt_tos[0]: m.message["Subject"] for m in mail_sink.received}
    assert subjects == {
        "ja@example.jp": "【不審者情報】正門付近で目撃",
        "en@example.jp": "Suspicious person: seen near the gate",
        "vi@example.jp": "[Người khả nghi] 【不審者情報】正門付近で目撃",  # their language's word, then the title
    }


DRILL_SUBJECTS = {
    Language.JA: "【訓練】【災害情報】地震発生",
    Language.JA_EASY: "【くんれん】",
    Language.EN: "[DRILL] [Disaster] Earthquake",
    Language.ZH_HANS: "【演练】",
    Language.PT_BR: "[SIMULADO] ",
    Language.VI: "[DIỄN TẬP] ",
    Language.FIL: "[PAGSASANAY] ",
}
SAFE = {  # the first of the safety question's choices, as each catalog says it
    Language.JA: "無事です",
    Language.JA_EASY: "だいじょうぶです",
    Language.EN: "We are safe",
    Language.ZH_HANS: "平安无事",
    Language.PT_BR: "Estamos bem",
    Language.VI: "Bình an",
    Language.FIL: "Ligtas kami",
}


async def test_a_drill_asking_a_question_is_marked_and_lists_its_choices_in_each_language(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    site = await make_site("みどり小学校")
    pupil = await make_pupil(site)
    languages = {}
    for n, language in enumerate(Language):
        await make_guardian(f"保護者 {n}", pupils=[pupil], emails=[f"parent{n}@example.jp"], language=language)
        languages[f"parent{n}@example.jp"] = language
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さんの安否を教えてください。",
        question=broadcasts.BUILTIN_TEMPLATES[0].question,
        drill=True,
        translated={Language.EN: ("Earthquake", "Please tell us how your child is.")},
    )
    await broadcasts.confirm(draft.id, by=None)

    await deliver()

    assert len(mail_sink.received) == len(Language)
    for mail in mail_sink.received:
        language = languages[mail.rcpt_tos[0]]
        text = mail.text.replace("\r\n", "\n")
        assert mail.message["Subject"].startswith(DRILL_SUBJECTS[language]), (language, mail.message["Subject"])
        bullet = "・" if language in (Language.JA, Language.JA_EASY) else "• "
        assert f"{bullet}{SAFE[language]}\n" in text and "/ack/" in text
        html = mail.message.get_body(("html",)).get_content()
        for shown in (mail.message["Subject"], text, html):
            assert_one_language(shown, language, names=["地震発生", "お子さんの安否を教えてください。", "みどり小学校"])
