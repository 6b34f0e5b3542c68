"""Staff compose a broadcast that asks: a template fills the answers (kept editable), the form says
in the staff's language what is wrong with the answers and keeps what was typed, a drill is marked,
the preview shows the question as each family gets it, and a question can be saved as a template
to change or delete later."""

from __future__ import annotations

import re

from core.models import Broadcast, Language, QuestionTemplate
from core.passwords import Passwords
from core.questions import Question
from tests.one_language import assert_one_language
from tests.portal.test_staff_broadcasts import NAMES, TEXT, _teacher

SAFETY = ["無事です", "けがをしています", "迎えが必要です", "連絡がとれません"]


def _labels(page: str) -> list[str]:
    return re.findall(r'name="choice_label" value="([^"]*)"', page)


def _form(site_id: int, labels: list[str], **more: str | list[str]) -> dict:
    return {**TEXT, "target": str(site_id), "asks": "choices", "choice_label": labels, **more}


async def test_the_answers_must_make_a_question_and_the_form_says_why_in_the_staffs_language(
    new_browser, passwords: Passwords, family
) -> None:
    for language, too_few, same in (
        (
            Language.JA,
            "質問の回答は2〜5個にしてください。",
            "同じ回答が二つあります。回答はそれぞれ違うものにしてください。",
        ),
        (
            Language.EN,
            "A question needs 2 to 5 answers.",
            "Two answers are the same. Please make each answer different.",
        ),
    ):
        browser = await _teacher(new_browser, passwords, family.site, language=language)
        for labels, said in (
            (["無事です", "", ""], too_few),
            (["はい", "いいえ", "たぶん", "あとで", "わからない", "ほか"], too_few),
            (["無事です", "けが", "無事です"], same),
        ):
            refused = await browser.post("/staff/broadcasts", _form(family.site.id, labels, choice_help=["1"]))
            assert refused.status_code == 400, labels
            assert f'<p class="error" role="alert">{said}</p>' in refused.text
            assert [x for x in _labels(refused.text) if x] == [x for x in labels if x]  # as typed
            assert 'value="不審者の目撃情報"' in refused.text and 'name="choice_help" value="1" checked' in refused.text
            assert_one_language(refused.text, language, names=[*NAMES, *labels, "さくら小学校"])
        from core.models import StaffAccount

        await StaffAccount.filter(login_id="sensei").delete()
    assert not await Broadcast.exists()


async def test_a_template_fills_the_answers_to_change_and_the_preview_shows_the_drill_and_the_question(
    new_browser, passwords: Passwords, family
) -> None:
    browser = await _teacher(new_browser, passwords, family.site)
    filled = await browser.post("/staff/broadcasts", {**TEXT, "target": str(family.site.id), "use_template": "safety"})
    assert filled.status_code == 200 and _labels(filled.text) == [*SAFETY, ""]
    assert 'value="不審者の目撃情報"' in filled.text and not await Broadcast.exists()  # kept; nothing drafted
    assert re.findall(r'name="choice_help" value="(\d)" checked', filled.text) == ["1", "2", "3"]

    labels = ["無事です", "けがをしています", "迎えが必要です", "体育館にいます", ""]
    draft = await browser.post(
        "/staff/broadcasts",
        _form(
            family.site.id, labels, choice_help=["1", "2"], allow_note="1", drill="1", drill_escalates="1",
            template_name="地震（体育館）",
        ),
    )  # fmt: skip
    assert draft.status_code == 303
    broadcast = await Broadcast.get()
    assert broadcast.is_drill and broadcast.drill_escalates and broadcast.ack_requested
    asked = Question.from_json(broadcast.question or {})
    assert [c.label for c in asked.choices] == labels[:4] and asked.needs_help() == {1, 2} and asked.allows_note
    saved = await QuestionTemplate.get(name="地震（体育館）")
    assert Question.from_json(saved.question) == asked

    preview = await browser.get(draft.headers["location"])
    assert 'id="drill"' in preview.text and "未回答のときは2つ目の連絡先にも送ります" in preview.text
    section = re.search(r'<section id="question-preview">(.*?)</section>', preview.text, re.S)
    assert section and [x.strip() for x in re.findall(r"<li lang=\"ja\">([^<]+)", section.group(1))] == labels[:4]
    offered = re.search(r'id="sample-ja">.*?answers-offered">(.*?)</p>', preview.text, re.S)
    assert offered and re.findall(r">\[([^\]]+)\]<", offered.group(1)) == labels[:4]


async def test_saved_templates_are_listed_to_change_or_delete(new_browser, passwords: Passwords, family) -> None:
    browser = await _teacher(new_browser, passwords, family.site)
    await browser.get("/staff/question-templates")
    added = await browser.post(
        "/staff/question-templates",
        {"template_name": "遠足", "choice_label": ["参加", "不参加"], "choice_help": []},
    )
    assert added.status_code == 303
    [saved] = await QuestionTemplate.all()
    listed = await browser.get("/staff/question-templates")
    assert _labels(listed.text)[:2] == ["参加", "不参加"] and 'value="遠足"' in listed.text
    compose = await browser.get(f"/staff/broadcasts?template=saved:{saved.id}")
    assert _labels(compose.text)[:2] == ["参加", "不参加"]
    assert ">遠足</button>" in compose.text  # offered beside the built-in ones

    same = await browser.post(
        f"/staff/question-templates/{saved.id}", {"template_name": "遠足", "choice_label": ["参加", "参加"]}
    )
    assert same.status_code == 400 and "同じ回答が二つあります" in same.text
    assert _labels(same.text)[:2] == ["参加", "参加"]
    changed = await browser.post(
        f"/staff/question-templates/{saved.id}",
        {"template_name": "遠足（雨天）", "choice_label": ["参加", "不参加", "未定"], "choice_help": ["2"]},
    )
    assert changed.status_code == 303
    again = await QuestionTemplate.get(id=saved.id)
    assert again.name == "遠足（雨天）" and [c["label"] for c in again.question["choices"]] == [
        "参加",
        "不参加",
        "未定",
    ]
    clash = await browser.post(
        "/staff/question-templates", {"template_name": "遠足（雨天）", "choice_label": ["a", "b"]}
    )
    assert clash.status_code == 400 and "「遠足（雨天）」という名前のテンプレートはすでにあります。" in clash.text
    await browser.post(f"/staff/question-templates/{saved.id}/delete")
    assert not await QuestionTemplate.exists()
