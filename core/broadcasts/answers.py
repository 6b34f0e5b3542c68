"""Answers to what a broadcast asks, one per pupil; and escalation without one.

Each guardian a broadcast was sent to answers for each of their children in its scope (one tap
for all of them is one call with ``pupil_ids=None``). Either guardian of a child may answer; the
latest answer counts (``BroadcastAnswer``) and every answer is kept (``BroadcastAnswerChange``).
An answer can be changed until staff close the question. Tapping the same answer twice records
nothing the second time.

Who may answer: the holder of a delivery's answer link (its ``ack_token``, as mail carries it), a
chat the broadcast was sent to, or the guardian logged in on the portal — each only for their own
children in the broadcast's scope.

A broadcast that asks, in a category that escalates (``delivery.escalate_categories``), goes first
to each guardian's first address only; after ``ack_escalation_minutes`` with a child of theirs still
unanswered, to their other addresses (a drill only if it says so).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import actors, audit
from core.addresses import address_index, receiving_broadcasts
from core.broadcasts.scope import Scope, scope_filter
from core.config import Settings
from core.delivery.outbox import BroadcastWave, Recipient, enqueue_broadcast, escalation_rows
from core.errors import UserError
from core.i18n import _
from core.models import (
    Broadcast,
    BroadcastAnswer,
    BroadcastAnswerChange,
    BroadcastStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Guardian,
    Priority,
    Pupil,
    StaffAccount,
)
from core.questions import Question, question_of

NOTE_LIMIT = 200
PORTAL = "portal"  # where an answer given on the portal was given


@dataclass(frozen=True)
class Asked:
    """What one guardian is asked by one broadcast: their children in its scope and how each is
    answered so far."""

    broadcast: Broadcast
    question: Question
    guardian_id: int
    pupils: list[Pupil]  # the guardian's children in the broadcast's scope, by id
    answers: dict[int, BroadcastAnswer]  # the counted answer, by pupil id
    via: Channel | None = None  # the channel of the delivery whose link asked (None: the portal, a chat)

    @property
    def closed(self) -> bool:
        return self.broadcast.question_closed_at is not None

    @property
    def unanswered(self) -> list[Pupil]:
        return [p for p in self.pupils if p.id not in self.answers]


async def asked(broadcast_id: int, guardian_id: int) -> Asked | None:
    """What ``broadcast_id`` asks ``guardian_id``; None when it asks nothing or was never sent to them."""
    broadcast = await Broadcast.get_or_none(id=broadcast_id)
    if broadcast is None or (question := question_of(broadcast)) is None:
        return None
    if not await Delivery.filter(broadcast_id=broadcast_id, guardian_id=guardian_id).exists():
        return None
    pupils = await _pupils_in_scope(broadcast, guardian_id)
    answers = {
        a.pupil_id: a
        for a in await BroadcastAnswer.filter(broadcast_id=broadcast_id, pupil_id__in=[p.id for p in pupils] or [0])
    }
    return Asked(broadcast, question, guardian_id, pupils, answers)


async def asked_by_token(token: str) -> Asked | None:
    """What the answer link ``token`` asks; None for a token no delivery carries."""
    delivery = await Delivery.get_or_none(ack_token=token).only("id", "broadcast_id", "guardian_id", "channel")
    if delivery is None or delivery.broadcast_id is None or delivery.guardian_id is None:
        return None
    found = await asked(delivery.broadcast_id, delivery.guardian_id)
    return replace(found, via=delivery.channel) if found is not None else None


async def guardians_of_chat(broadcast_id: int, channel: Channel, chat: str) -> list[int]:
    """The guardians ``broadcast_id`` was sent to at the chat ``chat`` (a chat may be two guardians')."""
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    guardian_ids = cast(
        list[int],
        await Delivery.filter(
            broadcast_id=broadcast_id,
            address__value_index=address_index(channel, chat),
            address__channel=channel,
        ).values_list("guardian_id", flat=True),
    )
    return sorted(set(guardian_ids))


async def asked_in_chat(broadcast_id: int, channel: Channel, chat: str) -> list[Asked]:
    """What ``broadcast_id`` asks each guardian it was sent to at ``chat`` (LINE: the postback
    names only the broadcast)."""
    found = [await asked(broadcast_id, g) for g in await guardians_of_chat(broadcast_id, channel, chat)]
    return [a for a in found if a is not None]


async def answer(
    broadcast_id: int,
    guardian_id: int,
    choice: int,
    *,
    via: Channel | str,
    pupil_ids: Collection[int] | None = None,
    note: str | None = None,
    now: datetime | None = None,
    found: Asked | None = None,
) -> Asked:
    """Record ``guardian_id``'s answer ``choice`` for ``pupil_ids`` (None: all their children in
    scope); returns what they are asked, answered. A UserError, in the guardian's words, for a
    question closed or never asked of them, a choice it does not have, a child not theirs.
    ``found``: what they are asked, read just before by the caller (a page that showed it), so it
    is not read twice."""
    now = now or datetime.now(UTC)
    if found is None or (found.broadcast.id, found.guardian_id) != (broadcast_id, guardian_id):
        found = await asked(broadcast_id, guardian_id)
    if found is None:
        raise UserError(_("This message does not ask you anything."))
    if found.closed:
        raise UserError(_("Answers to this message are closed. Please contact the school directly."))
    found.question.choice(choice)
    note = _checked_note(note, found.question)
    theirs = {p.id for p in found.pupils}
    chosen = theirs if pupil_ids is None else set(pupil_ids)
    if not chosen or not chosen <= theirs:
        raise UserError(_("You can answer only for your own children this message was about."))
    changed = [
        pupil_id
        for pupil_id in sorted(chosen)
        if (current := found.answers.get(pupil_id)) is None or current.choice != choice or current.note != note
    ]
    if not changed:
        return found
    await _record(broadcast_id, guardian_id, choice, changed, via=via, note=note, now=now, answered=found.answers)
    answers = await BroadcastAnswer.filter(broadcast_id=broadcast_id, pupil_id__in=sorted(theirs))
    return replace(found, answers={a.pupil_id: a for a in answers})


async def answer_by_token(
    token: str,
    choice: int,
    *,
    pupil_ids: Collection[int] | None = None,
    note: str | None = None,
    via: Channel | str | None = None,
) -> Asked | None:
    """An answer through the link ``token`` (mail, a chat button carrying it); None for an unknown token."""
    delivery = await Delivery.get_or_none(ack_token=token).only("id", "broadcast_id", "guardian_id", "channel")
    if delivery is None or delivery.broadcast_id is None or delivery.guardian_id is None:
        return None
    return await answer(
        delivery.broadcast_id, delivery.guardian_id, choice, via=via or delivery.channel, pupil_ids=pupil_ids, note=note
    )


def _checked_note(note: str | None, question: Question) -> str | None:
    note = " ".join((note or "").split()) or None
    if note is None:
        return None
    if not question.allows_note:
        raise UserError(_("This question takes no note."))
    if len(note) > NOTE_LIMIT:
        raise UserError(_("A note can be at most %(num)d characters long.", num=NOTE_LIMIT))
    return note


async def _record(
    broadcast_id: int,
    guardian_id: int,
    choice: int,
    pupil_ids: Sequence[int],
    *,
    via: Channel | str,
    note: str | None,
    now: datetime,
    answered: Collection[int],
) -> None:
    """Make ``choice`` the counted answer for ``pupil_ids`` (those in ``answered`` had one when the
    guardian was asked), keep it in the history and audit it, in one transaction."""
    channel = via.value if isinstance(via, Channel) else via
    async with in_transaction():
        values: dict[str, Any] = {
            "guardian_id": guardian_id,
            "choice": choice,
            "note": note,
            "channel": channel,
            "answered_at": now,
        }
        await _count(broadcast_id, [p for p in pupil_ids if p in answered], values)
        unanswered = [p for p in pupil_ids if p not in answered]
        if unanswered:
            try:
                async with in_transaction():  # a savepoint: the other parent may answer at the same moment
                    await BroadcastAnswer.bulk_create(
                        [BroadcastAnswer(broadcast_id=broadcast_id, pupil_id=p, **values) for p in unanswered]
                    )
            except IntegrityError:
                await _count(broadcast_id, unanswered, values)
        await BroadcastAnswerChange.bulk_create(
            [
                BroadcastAnswerChange(
                    broadcast_id=broadcast_id,
                    pupil_id=pupil_id,
                    guardian_id=guardian_id,
                    choice=choice,
                    note=note,
                    channel=channel,
                    answered_at=now,
                )
                for pupil_id in pupil_ids
            ]
        )
        await audit.record(
            actors.guardian(guardian_id, channel),
            "broadcast.answer",
            target=f"broadcast:{broadcast_id}",
            details={"choice": choice, "pupils": len(pupil_ids), "note": note is not None},
        )


async def _count(broadcast_id: int, pupil_ids: Sequence[int], values: dict[str, Any]) -> None:
    """Change the counted answer of ``pupil_ids``; one deleted meanwhile (its pupil left) is counted anew."""
    for pupil_id in pupil_ids:
        if not await BroadcastAnswer.filter(broadcast_id=broadcast_id, pupil_id=pupil_id).update(**values):
            await BroadcastAnswer.create(broadcast_id=broadcast_id, pupil_id=pupil_id, **values)


async def close_question(broadcast_id: int, *, by: StaffAccount | None, now: datetime | None = None) -> Broadcast:
    """Take no more answers to ``broadcast_id`` (audited); closing twice changes nothing."""
    broadcast = await Broadcast.get(id=broadcast_id)
    if question_of(broadcast) is None:
        raise UserError(_("This broadcast asks no question."))
    if broadcast.question_closed_at is None:
        async with in_transaction():
            broadcast.question_closed_at = now or datetime.now(UTC)
            await broadcast.save(update_fields=["question_closed_at"])
            await audit.record(
                actors.staff_or_system(by), "broadcast.close_question", target=f"broadcast:{broadcast_id}"
            )
    return broadcast


async def _pupils_in_scope(broadcast: Broadcast, guardian_id: int) -> list[Pupil]:
    scope = Scope.from_json(broadcast.scope)
    return await Pupil.filter(
        await scope_filter(scope, prefix=""), id__in=await children_of(guardian_id) or [0]
    ).order_by("id")


async def children_of(guardian_id: int) -> list[int]:
    """The guardian's children's ids, read from the guardian's side.

    Filtering pupils or answers by ``pupil__guardians__id`` joins the guardian table too, and
    SQLite then reads every pupil of the city (for answers: once per answer already given), so an
    answer or a home page cost time in proportion to the city. Filter by these ids instead.
    """
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    found = cast(list[int | None], await Guardian.filter(id=guardian_id).values_list("pupils__id", flat=True))
    return [pupil_id for pupil_id in found if pupil_id is not None]


async def unanswered_guardians(broadcast: Broadcast, guardian_ids: Iterable[int]) -> set[int]:
    """Those of ``guardian_ids`` with a child in ``broadcast``'s scope that nobody answered for."""
    wanted = list(dict.fromkeys(guardian_ids))
    if not wanted:
        return set()
    scope = Scope.from_json(broadcast.scope)
    # Tortoise types a flat values_list as a list of tuples; it is a list of the values
    in_scope = set(
        cast(list[int], await Pupil.filter(await scope_filter(scope, prefix="")).values_list("id", flat=True))
    )
    answered = set(
        cast(list[int], await BroadcastAnswer.filter(broadcast_id=broadcast.id).values_list("pupil_id", flat=True))
    )
    waiting: set[int] = set()
    for start in range(0, len(wanted), 1000):
        # from the guardians' side, as children_of: filtering pupils by guardians__id read every pupil per chunk
        for guardian_id, pupil_id in await Guardian.filter(id__in=wanted[start : start + 1000]).values_list(
            "id", "pupils__id"
        ):
            if pupil_id in in_scope and pupil_id not in answered:
                waiting.add(guardian_id)
    return waiting


async def escalate_unanswered(settings: Settings, *, now: datetime | None = None) -> int:
    """Send again, to their other addresses, to guardians with a child still unanswered in time;
    returns how many notices were queued."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(minutes=settings.delivery.ack_escalation_minutes)
    window = now - timedelta(hours=settings.delivery.broadcast_expiry_hours)
    queued = 0
    for broadcast in await Broadcast.filter(
        ack_requested=True,
        question_closed_at__isnull=True,
        category__in=settings.delivery.escalate_categories,
        status__in=[BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT],
        confirmed_at__gte=window,
    ):
        if broadcast.is_drill and not broadcast.drill_escalates:
            continue
        queued += await _escalate(broadcast, cutoff, settings)
    return queued


async def _escalate(broadcast: Broadcast, cutoff: datetime, settings: Settings) -> int:
    # An escalated guardian is left out below, so the escalation's own sent rows need no telling apart here.
    sent = dict(
        await Delivery.filter(
            broadcast_id=broadcast.id,
            status=DeliveryStatus.SENT,
            sent_at__lte=cutoff,
        ).values_list("guardian_id", "address_id")
    )
    escalated = set(
        cast(list[int], await Delivery.filter(escalation_rows(broadcast.id)).values_list("guardian_id", flat=True))
    )
    waiting = sorted(await unanswered_guardians(broadcast, (g for g in sent if g not in escalated)))
    queued = 0
    for start in range(0, len(waiting), 1000):
        chunk = waiting[start : start + 1000]
        others: list[Recipient] = []
        for address in await receiving_broadcasts(guardian_id__in=chunk).order_by("slot"):
            if address.id == sent[address.guardian_id] or address.guardian_id in escalated:
                continue
            escalated.add(address.guardian_id)
            others.append(Recipient.of(address))
        queued += await enqueue_broadcast(
            broadcast, others, settings.delivery, wave=BroadcastWave.ESCALATION, priority=Priority.URGENT
        )
    return queued
