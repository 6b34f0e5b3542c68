"""A broadcast that asks: answers per child by either guardian, the latest counting and every one
kept, closing, refusals in the guardian's words, and escalation for a child still unanswered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import broadcasts
from core.errors import UserError
from core.models import (
    AuditEntry,
    Broadcast,
    BroadcastAnswer,
    BroadcastAnswerChange,
    BroadcastCategory,
    Delivery,
    Language,
)
from core.questions import BUILTIN_TEMPLATES, written_question
from tests.factories import make_guardian, make_pupil, make_site

SAFETY = BUILTIN_TEMPLATES[0].question  # 無事です / けがをしています / 迎えが必要です / 連絡がとれません


async def _family():
    """Two children at みどり; their mother (two addresses) and father; a child at さくら."""
    midori, sakura = await make_site("みどり小学校"), await make_site("さくら小学校")
    hana, ichiro = await make_pupil(midori, "山田 花子"), await make_pupil(midori, "山田 一郎")
    other = await make_pupil(sakura, "佐藤 陽翔")
    mother = await make_guardian(
        "山田 恵子", pupils=[hana, ichiro, other], emails=["keiko@example.jp", "keiko.m@docomo.ne.jp"]
    )
    father = await make_guardian("山田 直樹", pupils=[hana], emails=["naoki@example.jp"])
    return (hana, ichiro, other), mother, father


async def _asked(deliver, *, question=SAFETY, drill: bool = False, drill_escalates: bool = False) -> int:
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.CLOSURE,  # a category that escalates (a disaster goes to every address at once)
        title="臨時休校と引き取り",
        body="学校で待機しています。",
        question=question,
        drill=drill,
        drill_escalates=drill_escalates,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    return draft.id


async def test_each_child_is_answered_and_the_latest_answer_counts(database_url, mail_settings, deliver) -> None:
    (hana, ichiro, other), mother, father = await _family()
    broadcast_id = await _asked(deliver)

    asked = await broadcasts.asked(broadcast_id, mother.id)
    assert asked is not None and [p.id for p in asked.pupils] == [hana.id, ichiro.id]  # not さくら's child
    await broadcasts.answer(broadcast_id, mother.id, 0, via="portal")  # "same for both": one call
    await broadcasts.answer(broadcast_id, mother.id, 0, via="portal")  # a double tap records nothing
    await broadcasts.answer(broadcast_id, father.id, 2, via="line", pupil_ids=[hana.id])  # the other parent

    counted = dict(await BroadcastAnswer.filter(broadcast_id=broadcast_id).values_list("pupil_id", "choice"))
    assert counted == {hana.id: 2, ichiro.id: 0}
    history = (
        await BroadcastAnswerChange.filter(broadcast_id=broadcast_id)
        .order_by("id")
        .values_list("pupil_id", "choice", "channel")
    )
    assert history == [(hana.id, 0, "portal"), (ichiro.id, 0, "portal"), (hana.id, 2, "line")]
    assert await AuditEntry.filter(action="broadcast.answer").count() == 2
    assert (await broadcasts.asked(broadcast_id, mother.id)).answers[hana.id].guardian_id == father.id  # type: ignore[union-attr]


async def test_refusals_are_in_the_guardians_words_and_record_nothing(database_url, mail_settings, deliver) -> None:
    (hana, _, other), mother, father = await _family()
    broadcast_id = await _asked(deliver)

    for call, words in [
        (broadcasts.answer(broadcast_id, mother.id, 4, via="portal"), "選択肢にありません"),
        (broadcasts.answer(broadcast_id, mother.id, -1, via="portal"), "選択肢にありません"),
        (broadcasts.answer(broadcast_id, father.id, 0, via="portal", pupil_ids=[other.id]), "ご自身のお子さま"),
        (broadcasts.answer(broadcast_id, mother.id, 0, via="portal", note="熱があります"), "メモを付けられません"),
    ]:
        with pytest.raises(UserError) as refused:
            await call
        assert words in refused.value.message.translate(Language.JA)
    assert not await BroadcastAnswer.exists()

    await broadcasts.close_question(broadcast_id, by=None)
    with pytest.raises(UserError) as closed:
        await broadcasts.answer(broadcast_id, mother.id, 0, via="portal")
    assert "締め切られました" in closed.value.message.translate(Language.JA)
    assert "closed" in closed.value.message.translate(Language.EN)
    assert await broadcasts.answer_by_token("no-such-token", 0) is None


async def test_a_note_is_sealed_at_rest(database_url, mail_settings, deliver) -> None:
    from core.db import connection

    (hana, _, _), mother, _ = await _family()
    question = written_question(["無事です", "けがをしています"], [False, True], allows_note=True)
    broadcast_id = await _asked(deliver, question=question)
    await broadcasts.answer(broadcast_id, mother.id, 1, via="portal", pupil_ids=[hana.id], note="右足を捻挫")

    assert (await BroadcastAnswer.get(pupil_id=hana.id)).note == "右足を捻挫"
    for table in ("broadcast_answer", "broadcast_answer_change"):
        [row] = await connection().execute_query_dict(f"SELECT note FROM {table}")
        assert "右足".encode() not in bytes(row["note"])


def test_a_written_question_needs_two_to_five_different_answers() -> None:
    for labels, words in [
        (["はい"], "2〜5個"),
        (["a", "b", "c", "d", "e", "f"], "2〜5個"),
        (["はい", " はい "], "同じ回答"),
    ]:
        with pytest.raises(UserError) as refused:
            written_question(labels, [False] * len(labels))
        assert words in refused.value.message.translate(Language.JA)
    kept = written_question(["無事です", "  帰宅済み "], [False, False])
    assert [c.label for c in kept.choices] == ["無事です", "帰宅済み"]
    # a built-in answer keeps its translations; one staff wrote is shown in Japanese, framed
    assert kept.choices[0].label_in(Language.PT_BR) == ("Estamos bem", False)
    assert kept.choices[1].label_in(Language.PT_BR) == ("帰宅済み", True)


async def test_a_family_with_a_child_unanswered_is_escalated_and_a_drill_is_not(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    (hana, ichiro, _), mother, father = await _family()
    broadcast_id = await _asked(deliver)
    drill_id = await _asked(deliver, drill=True)
    await broadcasts.answer(broadcast_id, father.id, 0, via="line", pupil_ids=[hana.id])

    later = datetime.now(UTC) + timedelta(minutes=16)
    assert (
        await broadcasts.escalate_unanswered(mail_settings, now=later) == 1
    )  # 一郎 is unanswered: the mother's other address
    [escalation] = await Delivery.filter(idempotency_key__startswith=f"broadcast:{broadcast_id}:escalation")
    assert escalation.guardian_id == mother.id
    assert not await Delivery.filter(idempotency_key__startswith=f"broadcast:{drill_id}:escalation").exists()

    await broadcasts.answer(broadcast_id, mother.id, 0, via="portal", pupil_ids=[ichiro.id])
    asked = await Broadcast.get(id=broadcast_id)
    assert await broadcasts.unanswered_guardians(asked, [mother.id, father.id]) == set()


async def test_a_drill_that_says_so_is_escalated(database_url, mail_settings, mail_sink, deliver) -> None:
    _, mother, _ = await _family()
    drill_id = await _asked(deliver, drill=True, drill_escalates=True)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await broadcasts.escalate_unanswered(mail_settings, now=later) == 1
    [escalation] = await Delivery.filter(idempotency_key__startswith=f"broadcast:{drill_id}:escalation")
    assert escalation.guardian_id == mother.id
