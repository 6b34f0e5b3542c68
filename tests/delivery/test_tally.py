"""The tally of a 安否確認 as staff read it: per class, delivered, each answer, unanswered and not
reachable; the pupils behind each number; a re-send that goes only to families still unanswered."""

from __future__ import annotations

import pytest

from core import broadcasts
from core.broadcasts.tally import EVERYWHERE, Show, Where, pupils, tally
from core.errors import UserError
from core.models import AuditEntry, Broadcast, BroadcastCategory, Pupil, Site
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import make_guardian, make_pupil, make_site

SAFETY = broadcasts.BUILTIN_TEMPLATES[0].question  # 無事です / けがをしています / 迎えが必要です / 連絡がとれません


async def _pupil(site: Site, name: str, class_name: str) -> Pupil:
    pupil = await make_pupil(site, name)
    pupil.class_name = class_name
    await pupil.save()
    return pupil


async def school_after_an_earthquake(mail_sink, deliver) -> tuple[int, dict[str, Pupil], dict[str, int]]:
    """みどり小学校 3年1組 (太郎, 花子) and 3年2組 (次郎, 健, 美咲); 太郎 and 次郎 are siblings; 花子's
    mailbox refuses mail; 健's family registered no address. さくら小学校 is not asked."""
    site = await make_site()
    kids = {name: await _pupil(site, name, c) for name, c in (("太郎", "1"), ("花子", "1"))}
    kids |= {name: await _pupil(site, name, "2") for name in ("次郎", "健", "美咲")}
    families = {
        "sato": await make_guardian("佐藤 洋子", pupils=[kids["太郎"], kids["次郎"]], emails=["yoko@example.jp"]),
        "ito": await make_guardian("伊藤 直樹", pupils=[kids["花子"]], emails=["naoki@example.jp"]),
        "kato": await make_guardian("加藤 明", pupils=[kids["健"]]),
        "mori": await make_guardian("森 由美", pupils=[kids["美咲"]], emails=["yumi@example.jp"]),
    }
    await make_guardian(
        "田中 光", pupils=[await make_pupil(await make_site("さくら小学校"), "光")], emails=["hikari@example.jp"]
    )
    mail_sink.answer("naoki@example.jp", "550 5.1.1 No such user")
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さまの様子をお知らせください。",
        question=SAFETY,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    sato = families["sato"].id
    await broadcasts.answer(draft.id, sato, 0, via="portal", pupil_ids=[kids["太郎"].id])
    await broadcasts.answer(draft.id, sato, 2, via="portal", pupil_ids=[kids["次郎"].id])
    return draft.id, kids, {k: g.id for k, g in families.items()}


def _line(group) -> tuple[int, int, list[int], int, int]:  # noqa: ANN001
    c = group.counts
    return c.pupils, c.delivered, c.answers, c.unanswered, c.not_reachable


async def test_the_tally_counts_each_class_by_delivery_and_answer(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    broadcast_id, _, _ = await school_after_an_earthquake(mail_sink, deliver)
    shown = await tally(await _broadcast(broadcast_id))
    assert [(g.school, g.grade, g.class_name) for g in shown.groups] == [
        ("みどり小学校", None, None),
        ("みどり小学校", 3, None),
        ("みどり小学校", 3, "1"),
        ("みどり小学校", 3, "2"),
    ]
    school, grade, first, second = (_line(g) for g in shown.groups)
    assert first == (2, 1, [1, 0, 0, 0], 1, 1)  # 太郎 safe; 花子 unanswered, her mail refused
    assert second == (3, 2, [0, 0, 1, 0], 2, 1)  # 次郎 to be collected; 健 (no address) and 美咲 unanswered
    assert school == grade == (5, 3, [1, 0, 1, 0], 3, 2)
    assert _line(shown.groups[0]) == (
        shown.total.pupils,
        shown.total.delivered,
        shown.total.answers,
        shown.total.unanswered,
        shown.total.not_reachable,
    )


async def _broadcast(broadcast_id: int) -> Broadcast:
    return await Broadcast.get(id=broadcast_id)


async def test_every_number_lists_the_pupils_behind_it(database_url, mail_settings, mail_sink, deliver) -> None:
    broadcast_id, kids, families = await school_after_an_earthquake(mail_sink, deliver)
    broadcast = await _broadcast(broadcast_id)
    site_id = kids["太郎"].school_id

    async def names(show, where=EVERYWHERE) -> list[str]:  # noqa: ANN001
        rows, total = await pupils(broadcast, show, where=where, viewer=None)
        assert total == len(rows)
        return [row.pupil.name for row in rows]

    assert await names(Show.ALL) == ["太郎", "花子", "次郎", "健", "美咲"]
    assert await names(Show.UNANSWERED) == ["花子", "健", "美咲"]
    assert await names(Show.UNANSWERED, Where(site_id, 3, "2")) == ["健", "美咲"]
    assert await names(Show.UNREACHABLE) == ["花子", "健"]
    assert await names(Show.DELIVERED, Where(site_id, 3)) == ["太郎", "次郎", "美咲"]
    assert await names(2) == await names(Show.NEEDS_HELP) == ["次郎"]
    assert await names(1) == []
    [jiro] = (await pupils(broadcast, Show.NEEDS_HELP, viewer=None))[0]
    assert jiro.answered_by is not None and jiro.answer is not None and jiro.answer.choice == 2
    assert [p.guardian_id for p in jiro.guardians] == [families["sato"]]
    page, total = await pupils(broadcast, Show.ALL, viewer=None, offset=2, limit=2)
    assert total == 5 and [row.pupil.name for row in page] == ["次郎", "健"]


async def test_sending_again_to_the_unanswered_reaches_only_their_families(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    broadcast_id, kids, families = await school_after_an_earthquake(mail_sink, deliver)
    before = mail_sink.per_recipient()
    assert before == {"yoko@example.jp": 1, "yumi@example.jp": 1}  # naoki's refused once

    queued = await broadcasts.resend_unanswered(broadcast_id, mail_settings, by=None)
    assert queued == 2  # 伊藤 (花子) and 森 (美咲); 佐藤 answered for both children, 加藤 has no address
    await deliver()
    again = mail_sink.per_recipient() - before
    assert again == {"naoki@example.jp": 1, "yumi@example.jp": 1}
    assert await AuditEntry.filter(action="broadcast.resend_unanswered").count() == 1

    await broadcasts.close_question(broadcast_id, by=None)
    with pytest.raises(UserError):
        await broadcasts.resend_unanswered(broadcast_id, mail_settings, by=None)
    with pytest.raises(UserError):
        await broadcasts.answer(broadcast_id, families["mori"], 0, via="portal")
