"""A broadcast's question answered on the portal: from the mail's link (its GET records nothing) and
on the home page, per child, "same for all" in one tap; answers changed until closed, with their
history; a drill marked; and every bad input a clear page in the guardian's language."""

from __future__ import annotations

import re

from core import broadcasts
from core.addresses import add_verified_address
from core.broadcasts import BUILTIN_TEMPLATES, Question
from core.models import (
    BroadcastAnswer,
    BroadcastAnswerChange,
    BroadcastCategory,
    Channel,
    Delivery,
    Language,
)
from core.passwords import Passwords
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401  # the fixtures, for mail
from tests.factories import make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.conftest import guardian_with_password, log_in_guardian

SAFETY = BUILTIN_TEMPLATES[0].question  # 無事です / けがをしています / 迎えが必要です / 連絡がとれません
NAMES = ["山田 花子", "山田 一郎", "佐藤 陽翔"]
_LINK = re.compile(r"https://mimamori\.city\.example\.jp(/ack/[\w-]+)")


async def _family(passwords: Passwords, *, language: Language = Language.JA):
    site = await make_site()
    hanako, ichiro = await make_pupil(site, "山田 花子"), await make_pupil(site, "山田 一郎")
    guardian = await guardian_with_password(passwords, pupils=[hanako, ichiro])
    guardian.language = language
    await guardian.save()
    await add_verified_address(guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    return hanako, ichiro, guardian


async def _asked(settings, question: Question | None = SAFETY, *, drill: bool = False, ack: bool = False) -> int:
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さんの安否を教えてください。",
        question=question,
        ack_requested=ack,
        drill=drill,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(settings)
    return draft.id


async def _token_link(broadcast_id: int) -> str:
    delivery = await Delivery.get(broadcast_id=broadcast_id)
    return f"/ack/{delivery.ack_token}"


async def _choices(broadcast_id: int) -> dict[int, int]:
    return {a.pupil_id: a.choice for a in await BroadcastAnswer.filter(broadcast_id=broadcast_id)}


async def test_the_mail_links_to_a_page_where_each_child_is_answered_and_changed(
    new_browser, passwords, mail_settings, mail_sink, deliver
) -> None:
    hanako, ichiro, _ = await _family(passwords)
    broadcast_id = await _asked(mail_settings, drill=True)
    await deliver()

    [mail] = mail_sink.to("keiko@example.jp")
    assert mail.message["Subject"] == "【訓練】【災害情報】地震発生"
    assert "・無事です\n・けがをしています\n・迎えが必要です\n・連絡がとれません" in mail.text
    link = _LINK.search(mail.text)
    assert link is not None and "こちらのページで回答してください" in mail.text

    anyone = new_browser()
    page = await anyone.get(link.group(1))  # what a mail scanner does too
    assert page.status_code == 200 and "お子さんの安否を教えてください。" in page.text
    assert "<h1>【訓練】地震発生</h1>" in page.text
    assert page.text.count("未回答") == 2 and "全員同じ回答" in page.text
    assert page.text.count('name="choice"') == 12  # four choices: for all, for 花子, for 一郎
    assert_one_language(page.text, Language.JA, names=NAMES)
    assert await BroadcastAnswer.filter(broadcast_id=broadcast_id).count() == 0

    done = await anyone.post(link.group(1), {"pupil": str(hanako.id), "choice": "0"})
    assert done.status_code == 200 and "回答を受け付けました" in done.text
    assert "回答：無事です" in done.text and done.text.count("未回答") == 1
    same = await anyone.post(link.group(1), {"pupil": "all", "choice": "2"})
    assert same.text.count("回答：迎えが必要です") == 2
    await anyone.post(link.group(1), {"pupil": "all", "choice": "2"})  # a double tap
    assert await _choices(broadcast_id) == {hanako.id: 2, ichiro.id: 2}
    history = await BroadcastAnswerChange.filter(pupil_id=hanako.id).order_by("id").values_list("choice", "channel")
    assert history == [(0, "email"), (2, "email")]
    assert await BroadcastAnswerChange.filter(pupil_id=ichiro.id).count() == 1

    await broadcasts.close_question(broadcast_id, by=None)
    closed = await anyone.get(link.group(1))
    assert 'name="choice"' not in closed.text and "回答：迎えが必要です" in closed.text
    assert "このお知らせへの回答は締め切られました" in closed.text
    late = await anyone.post(link.group(1), {"pupil": "all", "choice": "0"})
    assert late.status_code == 400 and "締め切られました" in late.text
    assert await _choices(broadcast_id) == {hanako.id: 2, ichiro.id: 2}


async def test_the_home_page_lists_the_waiting_question_first_with_a_button_per_child(
    new_browser, settings, passwords
) -> None:
    hanako, ichiro, guardian = await _family(passwords)
    earlier = await _asked(settings, None, ack=True)  # an acknowledgement, given before (as migrated)
    await broadcasts.answer(earlier, guardian.id, 0, via=Channel.EMAIL, pupil_ids=[hanako.id])
    broadcast_id = await _asked(settings, drill=True)
    browser = new_browser()
    await log_in_guardian(browser, guardian)

    home = await browser.get("/home")
    waiting = home.text.split("確認をお願いしている連絡")[1].split("<h2>")[0]
    assert "【訓練】地震発生" in waiting and waiting.count('name="choice"') == 12
    assert "確認済み" in home.text  # the old acknowledgement
    assert_one_language(home.text, Language.JA, names=NAMES)

    answered = await browser.post(f"/broadcasts/{broadcast_id}/answer", {"pupil": str(ichiro.id), "choice": "1"})
    assert answered.status_code == 303 and answered.headers["location"] == "/home?done=answered"
    home = await browser.get("/home?done=answered")
    assert "回答を受け付けました" in home.text and "回答：けがをしています" in home.text
    await browser.post(f"/broadcasts/{broadcast_id}/answer", {"pupil": str(hanako.id), "choice": "0"})
    home = await browser.get("/home")
    assert "確認をお願いしている連絡" not in home.text  # no longer waiting
    assert "回答を変更する" in home.text  # changeable until closed
    assert await _choices(broadcast_id) == {hanako.id: 0, ichiro.id: 1}
    assert (await BroadcastAnswer.get(broadcast_id=broadcast_id, pupil_id=ichiro.id)).channel == "portal"


async def test_bad_answers_are_refused_on_a_clear_page_and_nothing_is_recorded(
    new_browser, settings, passwords
) -> None:
    hanako, _, guardian = await _family(passwords, language=Language.EN)
    other = await make_pupil(await make_site("さくら小学校"), "佐藤 陽翔")
    broadcast_id = await _asked(settings)
    link = await _token_link(broadcast_id)
    anyone = new_browser()
    await anyone.get(link)

    refusals = {
        "choice": "That answer is not one of the choices. Please choose again.",
        "pupil": "You can answer only for your own children this message was about.",
    }
    for field, value in [
        ("choice", "4"),
        ("choice", "-1"),
        ("choice", "abc"),
        ("choice", "１"),  # a full-width digit
        ("choice", ""),
        ("choice", "9" * 90),
        ("pupil", str(other.id)),
        ("pupil", "x"),
        ("pupil", "2147483648"),
    ]:
        form = {"pupil": str(hanako.id), "choice": "0", field: value}
        refused = await anyone.post(link, form)
        assert refused.status_code == 400, (field, value)
        assert refusals[field] in refused.text, (field, value)
        assert_one_language(refused.text, Language.EN, names=NAMES)

    forged = await anyone.post("/ack/forged-token", {"pupil": "all", "choice": "0"})
    assert forged.status_code == 404 and "ページが見つかりません" in forged.text
    assert (await anyone.get("/ack/" + "x" * 65)).status_code == 404
    no_form = await anyone.post(link, {"pupil": "all", "choice": "0"}, csrf=False)
    assert no_form.status_code == 403

    browser = new_browser()
    await log_in_guardian(browser, guardian)
    refused = await browser.post(f"/broadcasts/{broadcast_id}/answer", {"pupil": str(other.id), "choice": "0"})
    assert refused.status_code == 400 and refusals["pupil"] in refused.text
    assert (await browser.post(f"/broadcasts/{broadcast_id + 1}/answer", {"choice": "0"})).status_code == 404
    assert await BroadcastAnswer.all().count() == 0 and await BroadcastAnswerChange.all().count() == 0


async def test_an_acknowledgement_page_looks_as_before_and_takes_one_tap_for_all(
    new_browser, settings, passwords
) -> None:
    hanako, ichiro, _ = await _family(passwords)
    broadcast_id = await _asked(settings, None, ack=True)
    link = await _token_link(broadcast_id)
    anyone = new_browser()
    page = await anyone.get(link)
    assert page.text.count('name="choice"') == 1 and "確認しました" in page.text
    done = await anyone.post(link)  # the form of pages shown before: no choice, no pupil
    assert "確認を受け付けました" in done.text and 'name="choice"' not in done.text
    assert await _choices(broadcast_id) == {hanako.id: 0, ichiro.id: 0}


async def test_a_note_is_taken_only_where_the_question_allows_one_and_kept_sealed(
    new_browser, settings, passwords
) -> None:
    hanako, _, _ = await _family(passwords)
    with_notes = Question(SAFETY.choices, allows_note=True)
    noted, plain = await _asked(settings, with_notes), await _asked(settings)
    anyone = new_browser()
    link = await _token_link(noted)
    page = await anyone.get(link)
    assert page.text.count('name="note"') == 3  # for all, and for each child
    done = await anyone.post(link, {"pupil": str(hanako.id), "choice": "1", "note": "ひざをすりむきました"})
    assert "メモ：ひざをすりむきました" in done.text
    answer = await BroadcastAnswer.get(broadcast_id=noted, pupil_id=hanako.id)
    assert answer.note == "ひざをすりむきました"
    raw = await BroadcastAnswer._meta.db.execute_query_dict("SELECT note FROM broadcast_answer")
    raw += await BroadcastAnswer._meta.db.execute_query_dict("SELECT note FROM broadcast_answer_change")
    assert raw and "ひざ" not in repr(raw)  # sealed at rest

    other = await _token_link(plain)
    page = await anyone.get(other)
    assert 'name="note"' not in page.text
    refused = await anyone.post(other, {"pupil": "all", "choice": "0", "note": "メモ"})
    assert refused.status_code == 400 and "この質問にはメモを付けられません。" in refused.text
    assert not await BroadcastAnswer.filter(broadcast_id=plain).exists()


async def test_the_answer_page_is_in_the_guardians_language(new_browser, settings, passwords) -> None:
    _, _, guardian = await _family(passwords)
    broadcast_id = await _asked(settings, drill=True)
    link = await _token_link(broadcast_id)
    for language in Language:
        await type(guardian).filter(id=guardian.id).update(language=language)
        page = await new_browser().get(link)
        assert page.status_code == 200
        assert_one_language(page.text, language, names=[*NAMES, "地震発生", "お子さんの安否を教えてください。"])


async def test_a_guardian_without_children_in_scope_is_not_asked_to_answer(new_browser, settings, passwords) -> None:
    await _family(passwords)
    childless = await guardian_with_password(passwords, name="高橋 美穂")
    await add_verified_address(childless.id, Channel.EMAIL, "miho@example.jp", limit=2)
    await _asked(settings, None, ack=True)  # to the whole city: every guardian with an address
    browser = new_browser()
    await log_in_guardian(browser, childless)

    home = await browser.get("/home")
    assert "地震発生" in home.text and "確認をお願いしている連絡" not in home.text
    assert 'name="choice"' not in home.text
