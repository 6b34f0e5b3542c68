"""Putting notices in the outbox: one row per (notice, address), in the caller's transaction.

The row is written together with the fact that caused it (a passage, a confirmed broadcast, a
verification), so a notice is never lost between the two; the worker sends it later. This module
is the one place that builds rows, their idempotency keys and how long each kind is worth sending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.channels import spec
from core.config import DeliverySettings
from core.db import insert_rows
from core.i18n.languages import DEFAULT as DEFAULT_LANGUAGE
from core.identifiers import new_token
from core.models import AddressStatus, Broadcast, Channel, ContactAddress, Delivery, Language, NoticeKind, StaffAddress
from core.models import Priority as Priority  # re-exported: the callers that queue notices name it from here

VERIFICATION_LIFETIME = timedelta(hours=24)  # the code in it is good for a day
REPLY_KEEP = timedelta(hours=12)  # an answer later than this is no answer any more
_FIXED_LIFETIMES = {
    NoticeKind.VERIFICATION: VERIFICATION_LIFETIME,
    NoticeKind.REPLY: REPLY_KEEP,
    NoticeKind.MAIL_ANSWER: REPLY_KEEP,
}


class BroadcastWave(StrEnum):
    """Which sending of a broadcast a row belongs to: each wave keys its rows apart from the others'."""

    FAN_OUT = "fan-out"  # everyone in scope, once per address
    ESCALATION = "escalation"  # the other channel, when not acknowledged in time; once per address
    RESEND = "resend"  # staff asked again for those not reached; each such request is a new wave


@dataclass(frozen=True, slots=True)  # a fan-out makes one per address: no __dict__ each
class Recipient:
    """A guardian's address as the batch enqueue needs it, read without building models."""

    address_id: int
    channel: Channel
    guardian_id: int
    lane: str  # the address's pacing group (ContactAddress.lane)

    @classmethod
    def of(cls, address: ContactAddress) -> Recipient:
        return cls(address.pk, address.channel, address.guardian_id, address.lane)


def idempotency_key(fact: str, address: ContactAddress | StaffAddress | Recipient) -> str:
    if isinstance(address, Recipient):
        return f"{fact}:a{address.address_id}"
    prefix = "a" if isinstance(address, ContactAddress) else "s"
    return f"{fact}:{prefix}{address.pk}"


def expiry(kind: NoticeKind, since: datetime, delivery: DeliverySettings) -> datetime | None:
    """When a notice of ``kind`` about what happened at ``since`` is too old to send; None: never."""
    lifetimes = {
        # A passage notice arriving an hour after the pass would mislead more than it helps.
        NoticeKind.PASSAGE: timedelta(minutes=delivery.passage_expiry_minutes),
        NoticeKind.BROADCAST: timedelta(hours=delivery.broadcast_expiry_hours),
        **_FIXED_LIFETIMES,
    }
    lifetime = lifetimes.get(kind)
    return since + lifetime if lifetime is not None else None


def _broadcast_fact(broadcast_id: int, wave: BroadcastWave, *, at: datetime | None = None) -> str:
    if wave is BroadcastWave.FAN_OUT:
        return f"broadcast:{broadcast_id}"
    if wave is BroadcastWave.RESEND:
        return f"broadcast:{broadcast_id}:resend:{int((at or datetime.now(UTC)).timestamp())}"
    return f"broadcast:{broadcast_id}:{wave.value}"


def escalation_rows(broadcast_id: int) -> Q:
    """The rows a broadcast's escalation queued, told apart by the key ``enqueue_broadcast`` gave them."""
    prefix = _broadcast_fact(broadcast_id, BroadcastWave.ESCALATION)
    return Q(broadcast_id=broadcast_id, idempotency_key__startswith=f"{prefix}:")


async def enqueue(
    *,
    kind: NoticeKind,
    fact: str,
    address: ContactAddress | None = None,
    staff_address: StaffAddress | None = None,
    guardian_id: int | None = None,
    passage_id: int | None = None,
    broadcast_id: int | None = None,
    payload: dict[str, Any] | None = None,
    priority: Priority = Priority.NORMAL,
    expires_at: datetime | None = None,
) -> Delivery | None:
    """Queue one notice to one address; None when this notice to this address was queued before."""
    target = address or staff_address
    if target is None or (address is not None and staff_address is not None):
        raise ValueError("a delivery goes to exactly one address")
    delivery = Delivery(
        idempotency_key=idempotency_key(fact, target),
        kind=kind,
        channel=target.channel,
        priority=int(priority),
        lane=address.lane if address else spec(target.channel).lane(target.value),
        address_id=address.pk if address else None,
        staff_address_id=staff_address.pk if staff_address else None,
        guardian_id=guardian_id if guardian_id is not None else getattr(address, "guardian_id", None),
        passage_id=passage_id,
        broadcast_id=broadcast_id,
        payload=json.dumps(payload, ensure_ascii=False) if payload is not None else None,
        next_attempt_at=datetime.now(UTC),
        expires_at=expires_at,
        ack_token=new_token() if kind is NoticeKind.BROADCAST and await _asks_for_ack(broadcast_id) else None,
    )
    try:
        async with in_transaction():  # a savepoint inside the caller's transaction
            await delivery.save()
    except IntegrityError:
        return None
    return delivery


async def _asks_for_ack(broadcast_id: int | None) -> bool:
    return broadcast_id is not None and await Broadcast.filter(id=broadcast_id, ack_requested=True).exists()


async def enqueue_to_guardians(
    *,
    kind: NoticeKind,
    fact: str,
    recipients: Sequence[Recipient],
    passage_id: int | None = None,
    payload: dict[str, Any] | None = None,
    priority: Priority = Priority.NORMAL,
    expires_at: datetime | None = None,
) -> None:
    """Queue one notice to each of ``recipients`` in one statement, skipping any queued before.

    For the hot path (a passage's notices): no savepoint per row and no model objects built.
    """
    body = json.dumps(payload, ensure_ascii=False) if payload is not None else None
    rows = _guardian_rows(kind, fact, recipients, priority, expires_at, passage_id=passage_id, payload=body)
    await insert_rows(Delivery, rows, ignore_conflicts=True)


@dataclass(frozen=True)
class PersonalNotice:
    """One notice of a batch with its own payload (a "not seen" notice carries its guardian's answer link)."""

    fact: str
    recipients: Sequence[Recipient]
    payload: dict[str, Any]
    expires_at: datetime | None


async def enqueue_personal(kind: NoticeKind, notices: Sequence[PersonalNotice], *, priority: Priority) -> None:
    """Queue each of ``notices`` to its recipients, all in one statement, skipping any queued before."""
    rows = [
        row
        for notice in notices
        for row in _guardian_rows(
            kind,
            notice.fact,
            notice.recipients,
            priority,
            notice.expires_at,
            payload=json.dumps(notice.payload, ensure_ascii=False),
        )
    ]
    await insert_rows(Delivery, rows, ignore_conflicts=True)


async def enqueue_to_other_addresses(
    address: ContactAddress, *, kind: NoticeKind, fact: str, payload: dict[str, Any]
) -> None:
    """Tell the guardian's other active addresses what happened to ``address`` (it blocked us, it
    stopped broadcasts), once per ``fact``."""
    others = await ContactAddress.filter(guardian_id=address.guardian_id, status=AddressStatus.ACTIVE).exclude(
        id=address.id
    )
    for other in others:
        await enqueue(kind=kind, fact=fact, address=other, payload=payload, priority=Priority.NORMAL)


async def enqueue_broadcast(
    broadcast: Broadcast,
    recipients: Sequence[Recipient],
    delivery: DeliverySettings,
    *,
    wave: BroadcastWave,
    priority: Priority,
) -> int:
    """Queue ``broadcast`` to each of ``recipients`` in one statement; returns how many rows it offered.

    An address this wave queued before is skipped. Every wave expires when the fan-out does, and
    a row carries an acknowledgement token only when the broadcast asks for acknowledgement.
    """
    now = datetime.now(UTC)
    fact = _broadcast_fact(broadcast.id, wave, at=now)
    expires_at = expiry(NoticeKind.BROADCAST, broadcast.confirmed_at or now, delivery)
    rows = _guardian_rows(NoticeKind.BROADCAST, fact, recipients, priority, expires_at, broadcast_id=broadcast.id)
    if broadcast.ack_requested:
        for row in rows:
            row["ack_token"] = new_token()
    await insert_rows(Delivery, rows, ignore_conflicts=True)
    return len(rows)


def _guardian_rows(
    kind: NoticeKind,
    fact: str,
    recipients: Sequence[Recipient],
    priority: Priority,
    expires_at: datetime | None,
    **columns: Any,
) -> list[dict[str, Any]]:
    now, rank = datetime.now(UTC), int(priority)
    return [
        {
            "idempotency_key": idempotency_key(fact, recipient),
            "kind": kind,
            "channel": recipient.channel,
            "priority": rank,
            "lane": recipient.lane,
            "address_id": recipient.address_id,
            "guardian_id": recipient.guardian_id,
            "next_attempt_at": now,
            "expires_at": expires_at,
            **columns,
        }
        for recipient in recipients
    ]


async def enqueue_reply(channel: Channel, chat: str, text: str, buttons: Sequence[tuple[str, str]]) -> None:
    """Queue a bot's answer the chat API did not take, to be pushed by the worker."""
    await _enqueue_answer(
        NoticeKind.REPLY, channel, chat, "reply", {"chat": chat, "text": text, "buttons": [list(b) for b in buttons]}
    )


async def enqueue_mail_answer(
    *, to: str, subject: str, text: str, in_reply_to: str | None, language: Language = DEFAULT_LANGUAGE
) -> Delivery:
    """Queue an answer (written in ``language``) to an incoming mail, sent by the mail transport on
    the one retry schedule."""
    return await _enqueue_answer(
        NoticeKind.MAIL_ANSWER,
        Channel.EMAIL,
        to,
        "mail-answer",
        {"to": to, "subject": subject, "text": text, "in_reply_to": in_reply_to, "language": language.value},
    )


async def _enqueue_answer(
    kind: NoticeKind, channel: Channel, to: str, key_prefix: str, payload: dict[str, Any]
) -> Delivery:
    """An answer to someone who wrote to us, urgent because a person waits for it.

    They need not be a registered address (a code being typed, a wrong code, an unknown sender):
    where it goes and what it says travel in the sealed payload only, never in a plaintext column.
    """
    now = datetime.now(UTC)
    return await Delivery.create(
        idempotency_key=f"{key_prefix}:{new_token()}",
        kind=kind,
        channel=channel,
        priority=int(Priority.TRANSACTIONAL),
        lane=spec(channel).lane(to),
        next_attempt_at=now,
        expires_at=now + _FIXED_LIFETIMES[kind],
        payload=json.dumps(payload, ensure_ascii=False),
    )
