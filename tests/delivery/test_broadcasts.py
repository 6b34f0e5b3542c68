"""Broadcasts: a draft, a preview, a confirm — and then every guardian in scope, and no one else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import broadcasts
from core.addresses import add_verified_address, counted_addresses
from core.errors import UserError
from core.models import (
    AddressStatus,
    AuditEntry,
    Broadcast,
    BroadcastAnswerChange,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    NoticeKind,
    SiteKind,
    StaffAccount,
    StaffRole,
)
from tests.factories import confirmed_broadcast, make_guardian, make_pupil, make_site


async def _city():
    """Two schools; guardians in 3-2 and 4-1 at みどり, one at さくら, one without addresses."""
    midori, sakura = await make_site("みどり小学校"), await make_site("さくら小学校")
    a = await make_pupil(midori, "山田 花子")
    b = await make_pupil(midori, "鈴木 蓮")
    b.grade, b.class_name = 4, "1"
    await b.save()
    c = await make_pupil(sakura, "佐藤 陽翔")
    guardians = {
        "yamada": await make_guardian("山田 恵子", pupils=[a], emails=["keiko@example.jp", "keiko.m@docomo.ne.jp"]),
        "suzuki": await make_guardian("鈴木 裕子", pupils=[b], emails=["yuko@example.jp"]),
        "sato": await make_guardian("佐藤 直樹", pupils=[c], emails=["naoki@example.jp"]),
        "silent": await make_guardian("高橋 美穂", pupils=[a]),
    }
    return midori, sakura, guardians


async def _staff(role: StaffRole, *sites) -> StaffAccount:
    staff = await StaffAccount.create(login_id=f"{role.value}-{len(sites)}", role=role, password_hash="x")
    await staff.sites.add(*sites)
    return staff


async def test_a_school_alert_reaches_every_guardian_there_once_and_nobody_else(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    midori, _, _ = await _city()
    staff = await _staff(StaffRole.STAFF, midori)
    scope = await broadcasts.parse_scope("みどり小学校")
    draft = await broadcasts.create_draft(
        author=staff,
        scope=scope,
        category=BroadcastCategory.SUSPICIOUS_PERSON,
        title="学校の近くで不審な人物",
        body="下校時は複数で帰るようにしてください。",
        ack_requested=False,
    )
    assert await Delivery.all().count() == 0  # a draft sends nothing

    shown = await broadcasts.preview(draft.id, mail_settings)
    assert shown.recipients == 3 and shown.addresses_by_channel == {Channel.EMAIL: 3}
    assert shown.samples[Channel.EMAIL].subject == "【不審者情報】学校の近くで不審な人物"
    assert "下校時は複数で帰るようにしてください。" in shown.samples[Channel.LINE].text

    await broadcasts.confirm(draft.id, by=staff)
    await deliver()

    assert mail_sink.per_recipient() == {"keiko@example.jp": 1, "keiko.m@docomo.ne.jp": 1, "yuko@example.jp": 1}
    mail = mail_sink.to("yuko@example.jp")[0]
    assert mail.message["Subject"] == "【不審者情報】学校の近くで不審な人物"
    assert "みどり小学校" in mail.text
    assert "/ack/" not in mail.text and not await Delivery.filter(ack_token__isnull=False).exists()  # none asked
    counts = await broadcasts.status(draft.id)
    assert (counts.sent, counts.queued, counts.failed, counts.recipients) == (3, 0, 0, 3)
    assert [(n.reasons) for n in counts.not_reached] == [("no registered address",)]
    actions = await AuditEntry.filter(target=f"broadcast:{draft.id}").values_list("action", flat=True)
    assert actions == ["broadcast.draft", "broadcast.confirm"]


async def test_a_broadcast_cannot_show_its_readers_text_turned_around_or_hidden(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    midori, _, _ = await _city()
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校:4"),
        category=BroadcastCategory.GENERAL,
        title="休校の\u202eお知らせ\u200b",
        body="明日は休校です。\r\n\u2066詳しくは\u2069学校へ。\x07",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None, actor="test")
    await deliver()

    [mail] = mail_sink.to("yuko@example.jp")
    assert mail.message["Subject"].endswith("休校のお知らせ")
    assert "明日は休校です。\n詳しくは学校へ。" in mail.text.replace("\r\n", "\n")
    assert not any(c in mail.text for c in "\u202e\u200b\u2066\u2069\x07")


@pytest.mark.parametrize(
    ("scope", "reached"),
    [
        ("all", {"keiko@example.jp", "keiko.m@docomo.ne.jp", "yuko@example.jp", "naoki@example.jp"}),
        ("みどり小学校:3", {"keiko@example.jp", "keiko.m@docomo.ne.jp"}),
        ("みどり小学校:4-1", {"yuko@example.jp"}),
        ("ｓａｋｕｒａ", None),
        ("みどり小学校:4-1、さくら小学校", {"yuko@example.jp", "naoki@example.jp"}),
    ],
)
async def test_scopes_pick_the_right_guardians(database_url, mail_settings, scope, reached) -> None:
    await _city()
    if reached is None:
        with pytest.raises(UserError, match="There is no site named sakura"):
            await broadcasts.parse_scope(scope)
        return
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope(scope),
        category=BroadcastCategory.GENERAL,
        title="t",
        body="b",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(mail_settings)
    addresses = {a.id: a.value for a in await ContactAddress.all()}
    assert {addresses[d.address_id] for d in await Delivery.all()} == reached


async def test_a_hall_reaches_the_families_of_children_who_go_there(database_url, mail_settings) -> None:
    from uuid import uuid4

    from core.models import Gate, Passage, PassageOutcome, Pupil

    await _city()
    hall = await make_site("ひかり児童館", SiteKind.HALL)
    gate = await Gate.create(site=hall, name="入口", key_hash="h" * 64)
    pupil = await Pupil.get(name_index__isnull=False, grade=4)
    await Passage.create(
        event_id=uuid4(),
        gate=gate,
        site=hall,
        pupil=pupil,
        tag_number="T",
        tag_number_index="i",
        seen_at=datetime.now(UTC) - timedelta(days=3),
        outcome=PassageOutcome.NOTIFIED,
    )
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("ひかり児童館"),
        category=BroadcastCategory.CLOSURE,
        title="休館",
        body="本日休館",
        ack_requested=False,
    )
    assert (await broadcasts.preview(draft.id, mail_settings)).recipients == 1


async def test_staff_send_only_to_their_own_sites(database_url) -> None:
    midori, sakura, _ = await _city()
    staff = await _staff(StaffRole.STAFF, midori)
    for text, message in (("さくら小学校", "さくら小学校 is not your site"), ("all", "Only administrators")):
        with pytest.raises(UserError, match=message):
            await broadcasts.create_draft(
                author=staff,
                scope=await broadcasts.parse_scope(text),
                category=BroadcastCategory.GENERAL,
                title="t",
                body="b",
                ack_requested=False,
            )
    desk = await _staff(StaffRole.SUPPORT)
    with pytest.raises(UserError, match="Only staff and administrators"):
        await broadcasts.create_draft(
            author=desk,
            scope=await broadcasts.parse_scope("みどり小学校"),
            category=BroadcastCategory.GENERAL,
            title="t",
            body="b",
            ack_requested=False,
        )
    admin = await _staff(StaffRole.ADMIN)
    assert await broadcasts.create_draft(
        author=admin,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="t",
        body="b",
        ack_requested=False,
    )


async def test_only_a_draft_is_confirmed_and_only_once(database_url, mail_settings) -> None:
    await _city()
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.GENERAL,
        title="t",
        body="b",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    with pytest.raises(UserError, match="no longer a draft: it is confirmed"):
        await broadcasts.confirm(draft.id, by=None)
    other = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.GENERAL,
        title="t",
        body="b",
        ack_requested=False,
    )
    await broadcasts.cancel(other.id, by=None)
    with pytest.raises(UserError, match="no longer a draft: it is cancelled"):
        await broadcasts.confirm(other.id, by=None)
    await broadcasts.continue_fanouts(mail_settings)
    assert await Delivery.filter(broadcast_id=other.id).count() == 0


async def test_an_interrupted_fan_out_resumes_without_duplicates(database_url, mail_settings) -> None:
    site = await make_site()
    for n in range(25):
        await make_guardian(f"保護者 {n}", pupils=[await make_pupil(site, f"子 {n}")], emails=[f"g{n}@example.jp"])
    small_batches = mail_settings.model_copy(
        update={"delivery": mail_settings.delivery.model_copy(update={"fanout_batch": 10})}
    )
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.CLOSURE,
        title="休校",
        body="明日は休校",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)

    added, finished = await broadcasts.fanout._fan_out_batch(draft.id, small_batches)  # then the process dies
    assert (added, finished) == (10, False)
    assert (await broadcasts.status(draft.id)).fanning_out

    await broadcasts.continue_fanouts(small_batches)  # another worker takes over

    keys = await Delivery.filter(broadcast_id=draft.id).values_list("idempotency_key", flat=True)
    assert len(keys) == len(set(keys)) == 25
    counts = await broadcasts.status(draft.id)
    assert counts.broadcast.status is BroadcastStatus.FANNED_OUT and counts.queued == 25


async def test_urgent_categories_jump_the_queue(database_url, mail_settings) -> None:
    await _city()
    general = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.GENERAL,
        title="t",
        body="b",
        ack_requested=False,
    )
    disaster = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.DISASTER,
        title="t",
        body="b",
        ack_requested=False,
    )
    for draft in (general, disaster):
        await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(mail_settings)
    from core.delivery.claims import claim_batch

    claimed = await claim_batch([Channel.EMAIL], limit=4, lease=timedelta(minutes=1), now=datetime.now(UTC))
    assert {d.broadcast_id for d in claimed} == {disaster.id}


async def test_acknowledging_by_the_link(database_url, mail_settings, mail_sink, deliver) -> None:
    await _city()
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校:4"),
        category=BroadcastCategory.DISASTER,
        title="避難",
        body="体育館に避難しています",
        ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    [mail] = mail_sink.to("yuko@example.jp")
    link = next(line for line in mail.text.splitlines() if "/ack/" in line).strip()
    assert link.startswith("https://mimamori.city.example.jp/ack/")

    assert (await broadcasts.answer_by_token(link.rsplit("/", 1)[1], 0)).broadcast.id == draft.id  # type: ignore[union-attr]
    assert await broadcasts.answer_by_token("not-a-token", 0) is None
    await broadcasts.answer_by_token(link.rsplit("/", 1)[1], 0)  # a second click changes nothing
    assert (await broadcasts.status(draft.id)).acknowledged == 1
    assert await BroadcastAnswerChange.filter(broadcast_id=draft.id).count() == 1


async def test_unacknowledged_alerts_are_sent_again_to_the_other_address(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    """A closure asking for acknowledgement escalates (delivery.escalate_categories' default): first
    each guardian's first address, then their other one, whichever channel it is."""
    midori, _, guardians = await _city()
    yamada, suzuki = guardians["yamada"], guardians["suzuki"]
    await add_verified_address(suzuki.id, Channel.LINE, "U-suzuki", limit=2)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("みどり小学校"),
        category=BroadcastCategory.CLOSURE,
        title="臨時休校",
        body="明日は臨時休校です。",
        ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    # Asked to acknowledge: first only each guardian's first address.
    assert mail_sink.per_recipient() == {"keiko@example.jp": 1, "yuko@example.jp": 1}

    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await broadcasts.escalate_unanswered(mail_settings, now=datetime.now(UTC)) == 0  # not yet
    assert await broadcasts.escalate_unanswered(mail_settings, now=later) == 2
    assert await broadcasts.escalate_unanswered(mail_settings, now=later) == 0  # only once

    escalations = await Delivery.filter(idempotency_key__startswith=f"broadcast:{draft.id}:escalation")
    addresses = {(a.channel, a.value) for a in await ContactAddress.filter(id__in=[e.address_id for e in escalations])}
    # 山田's other address is mail too: it is the other parent's, and is told all the same
    assert addresses == {(Channel.EMAIL, "keiko.m@docomo.ne.jp"), (Channel.LINE, "U-suzuki")}
    assert {e.guardian_id for e in escalations} == {yamada.id, suzuki.id}


async def test_a_suspicious_person_alert_goes_to_every_address_at_once_even_asking_for_acknowledgement(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    """Before, an alert asking for acknowledgement went to each guardian's first address only, and
    to the second 15 minutes later: too late for a stranger at the school gate."""
    await _city()
    broadcast_id = await confirmed_broadcast(
        "みどり小学校", title="不審者", category=BroadcastCategory.SUSPICIOUS_PERSON, ack_requested=True
    )
    shown = await broadcasts.preview(broadcast_id, mail_settings)
    assert not shown.escalates and shown.addresses_by_channel == {Channel.EMAIL: 3}
    await deliver()

    assert mail_sink.per_recipient() == {"keiko@example.jp": 1, "keiko.m@docomo.ne.jp": 1, "yuko@example.jp": 1}
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await broadcasts.escalate_unanswered(mail_settings, now=later) == 0  # nothing left to escalate to

    # A city that wants the old way for this category says so in its settings.
    stepwise = mail_settings.model_copy(
        update={"delivery": mail_settings.delivery.model_copy(update={"escalate_categories": ["suspicious_person"]})}
    )
    again = await broadcasts.preview(broadcast_id, stepwise)
    assert again.escalates and again.addresses_by_channel == {Channel.EMAIL: 2}


async def _closure_that_sato_did_not_get(mail_sink, deliver) -> Broadcast:
    """A closure sent to さくら小学校, where 佐藤's only address refuses mail."""
    await _city()
    mail_sink.answer("naoki@example.jp", "550 5.1.1 No such user")
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("さくら小学校"),
        category=BroadcastCategory.CLOSURE,
        title="休校",
        body="明日は休校",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    await deliver()
    return draft


async def test_status_lists_who_was_not_reached_and_resend_tries_them_again(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    draft = await _closure_that_sato_did_not_get(mail_sink, deliver)

    counts = await broadcasts.status(draft.id)
    assert (counts.sent, counts.failed) == (0, 1)
    [missed] = counts.not_reached
    assert missed.reasons == ("mail server refused: mailbox does not exist (550 5.1.1)",)

    assert await broadcasts.resend_unreached(draft.id, mail_settings, by=None) == 1
    await deliver()
    assert mail_sink.per_recipient() == {"naoki@example.jp": 1}
    assert (await broadcasts.status(draft.id)).not_reached == []


async def test_a_resend_expires_when_the_broadcast_does(database_url, mail_settings, mail_sink, deliver) -> None:
    from core.delivery.claims import expire_overdue

    draft = await _closure_that_sato_did_not_get(mail_sink, deliver)
    assert await broadcasts.resend_unreached(draft.id, mail_settings, by=None) == 1

    first, again = await Delivery.filter(broadcast_id=draft.id).order_by("id")
    assert first.expires_at is not None and again.expires_at == first.expires_at
    await expire_overdue(first.expires_at + timedelta(seconds=1))  # the day is over: too late to send it
    assert (await Delivery.get(id=again.id)).status is DeliveryStatus.EXPIRED


async def test_only_a_broadcast_asking_for_acknowledgement_carries_ack_tokens(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    """However its rows are made: the fan-out, the escalation, a resend, one queued by hand."""
    from core.delivery.outbox import enqueue

    _, _, guardians = await _city()
    await add_verified_address(guardians["suzuki"].id, Channel.LINE, "U-suzuki", limit=2)
    for refused in ("keiko@example.jp", "naoki@example.jp"):
        mail_sink.answer(refused, "550 5.1.1 No such user", "550 5.1.1 No such user")  # once for each broadcast
    drafts = {}
    for asked in (True, False):
        drafts[asked] = await broadcasts.create_draft(
            author=None,
            scope=await broadcasts.parse_scope("all"),
            category=BroadcastCategory.CLOSURE,
            title="避難",
            body="体育館に避難しています",
            ack_requested=asked,
        )
        await broadcasts.confirm(drafts[asked].id, by=None)
    await deliver()
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await broadcasts.escalate_unanswered(mail_settings, now=later) == 1  # 鈴木's LINE
    assert await broadcasts.resend_unreached(drafts[True].id, mail_settings, by=None) == 3  # 山田's two, 佐藤's
    assert await broadcasts.resend_unreached(drafts[False].id, mail_settings, by=None) == 1  # 佐藤's
    line = await ContactAddress.get(channel=Channel.LINE)
    for draft in drafts.values():
        await enqueue(
            kind=NoticeKind.BROADCAST, fact=f"broadcast:{draft.id}:by-hand", address=line, broadcast_id=draft.id
        )

    asked = await Delivery.filter(broadcast_id=drafts[True].id).values_list("ack_token", flat=True)
    assert len(asked) == 3 + 1 + 3 + 1 and all(asked) and len(set(asked)) == len(asked)
    not_asked = await Delivery.filter(broadcast_id=drafts[False].id).values_list("ack_token", flat=True)
    assert len(not_asked) == 5 + 1 + 1 and not any(not_asked)


async def test_a_blocked_chat_is_marked_inactive_and_the_other_address_is_told(
    database_url, mail_settings, mail_sink, deliver
) -> None:
    from core.delivery.outcomes import record_outcomes
    from core.delivery.transport import PermanentFailure

    guardian = await make_guardian(emails=["keiko@example.jp"])
    line = await add_verified_address(guardian.id, Channel.LINE, "U-keiko", limit=2)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope("all"),
        category=BroadcastCategory.GENERAL,
        title="t",
        body="b",
        ack_requested=False,
    )
    await broadcasts.confirm(draft.id, by=None)
    await broadcasts.continue_fanouts(mail_settings)
    to_line = await Delivery.get(address_id=line.id)
    blocked = PermanentFailure("LINE: the user blocked the account (403)", address_verdict="blocked")
    for _ in range(2):  # told once, even if reported twice
        await record_outcomes([(to_line, blocked)], mail_settings.delivery, datetime.now(UTC))

    assert (await ContactAddress.get(id=line.id)).status is AddressStatus.INACTIVE
    await deliver()
    notice = [m for m in mail_sink.to("keiko@example.jp") if "LINE" in m.message["Subject"]]
    assert len(notice) == 1
    assert notice[0].message["Subject"] == "【見守り】LINEにお知らせを届けられなくなりました"
    assert await Delivery.filter(kind=NoticeKind.ADDRESS_INACTIVE).count() == 1
    assert [a.channel for a in await counted_addresses(guardian.id) if a.status is AddressStatus.ACTIVE] == [
        Channel.EMAIL
    ]
    assert (await Delivery.get(id=to_line.id)).status is DeliveryStatus.FAILED
