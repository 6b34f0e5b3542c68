"""Broadcasts: a draft, a preview, and only on an explicit confirm, the fan-out to every guardian
in scope — the one two-step API the portal, the bots, mail and the CLI all use.

Fan-out inserts deliveries in batches of guardians, each batch its own short transaction that
advances a cursor on the broadcast row, so a city-wide alert never holds a long transaction or
blocks passage notices, and a fan-out interrupted by a crash resumes where it stopped.

Who receives it: guardians with the broadcast service, linked to a pupil of a school in scope
(optionally one grade, or one class). A children's hall in scope reaches the guardians of pupils
who passed through it in the last ``HALL_PUPILS_DAYS`` days (halls have no roster).
Where: every active address; when acknowledgement is asked, first only the first address, and
after ``ack_escalation_minutes`` without acknowledgement, the other address on another channel.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core import audit
from core.accounts import site_named
from core.config import Settings
from core.db import insert_rows
from core.delivery.compose import broadcast_context
from core.delivery.outbox import Priority, enqueue
from core.delivery.render import RenderedNotice, render
from core.errors import NotFound, UserError
from core.identifiers import new_token
from core.models import (
    AddressStatus,
    Broadcast,
    BroadcastAck,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Guardian,
    Language,
    NoticeKind,
    Passage,
    Site,
    SiteKind,
    StaffAccount,
    StaffRole,
)
from core.text import clean_free_text

HALL_PUPILS_DAYS = 60
TITLE_LIMIT = 120
BODY_LIMIT = 2000
URGENT_CATEGORIES = {BroadcastCategory.SUSPICIOUS_PERSON, BroadcastCategory.DISASTER}
_SCOPE_ITEM = re.compile(r"(?P<site>[^:]+?)(?::(?P<grade>\d{1,2})(?:-(?P<class>.+))?)?")


# ---- scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    site_id: int
    site: str
    grade: int | None = None
    class_name: str | None = None

    def label(self) -> str:
        if self.grade is None:
            return self.site
        return f"{self.site} {self.grade}年" + (f"{self.class_name}組" if self.class_name else "")


@dataclass(frozen=True)
class Scope:
    targets: tuple[Target, ...] = ()  # empty: the whole city

    @property
    def whole_city(self) -> bool:
        return not self.targets

    def to_json(self) -> dict[str, Any]:
        if self.whole_city:
            return {"all": True}
        return {
            "targets": [
                {"site_id": t.site_id, "site": t.site, "grade": t.grade, "class": t.class_name} for t in self.targets
            ]
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        return cls(
            tuple(Target(t["site_id"], t["site"], t.get("grade"), t.get("class")) for t in data.get("targets", []))
        )

    def label(self) -> str:
        return "全市 whole city" if self.whole_city else "、".join(t.label() for t in self.targets)


async def parse_scope(text: str) -> Scope:
    """``all``, or comma-separated ``SITE``, ``SITE:GRADE``, ``SITE:GRADE-CLASS`` (full-width ok)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded.casefold() in {"all", "全市", "全体"}:
        return Scope()
    targets = []
    for item in (part.strip() for part in re.split(r"[,、]", folded)):
        match = _SCOPE_ITEM.fullmatch(item) if item else None
        if match is None:
            raise UserError(f"scope {item!r} is not SITE, SITE:GRADE or SITE:GRADE-CLASS")
        site = await site_named(match["site"])
        grade = int(match["grade"]) if match["grade"] else None
        if grade is not None and site.kind is SiteKind.HALL:
            raise UserError(f"{site.name} is a children's hall: it has no grades")
        targets.append(Target(site.id, site.name, grade, match["class"].strip() if match["class"] else None))
    if not targets:
        raise UserError("a scope is needed: all, or a site")
    return Scope(tuple(dict.fromkeys(targets)))


async def check_scope_allowed(staff: StaffAccount, scope: Scope) -> None:
    """Administrators reach the whole city; staff only their own sites; the desk never."""
    if staff.role is StaffRole.ADMIN:
        return
    if staff.role is not StaffRole.STAFF:
        raise UserError("only staff and administrators send broadcasts")
    if scope.whole_city:
        raise UserError("only administrators send to the whole city")
    own = {site.id for site in await staff.sites.all()}
    outside = [t.site for t in scope.targets if t.site_id not in own]
    if outside:
        raise UserError(f"not your site: {', '.join(outside)}")


# ---- draft, preview, confirm -------------------------------------------------------------------


async def create_draft(
    *,
    author: StaffAccount | None,
    scope: Scope,
    category: BroadcastCategory,
    title: str,
    body: str,
    ack_requested: bool,
    actor: str | None = None,
) -> Broadcast:
    title, body = " ".join(clean_free_text(title).split()), clean_free_text(body).strip()
    if not title or not body:
        raise UserError("a broadcast needs a title and a body")
    if len(title) > TITLE_LIMIT or len(body) > BODY_LIMIT:
        raise UserError(f"the title is at most {TITLE_LIMIT} characters and the body {BODY_LIMIT}")
    if author is not None:
        await check_scope_allowed(author, scope)
    async with in_transaction():
        broadcast = await Broadcast.create(
            author=author,
            scope=scope.to_json(),
            category=category,
            title=title,
            body=body,
            ack_requested=ack_requested,
        )
        await audit.record(
            actor or _actor(author),
            "broadcast.draft",
            target=f"broadcast:{broadcast.id}",
            details={"scope": scope.label(), "category": category.value, "ack": ack_requested},
        )
    return broadcast


@dataclass(frozen=True)
class LineQuota:
    limit: int | None  # None: no monthly limit
    used: int


@dataclass(frozen=True)
class BroadcastPreview:
    broadcast: Broadcast
    scope_label: str
    recipients: int
    addresses_by_channel: dict[Channel, int]
    samples: dict[Channel, RenderedNotice]
    line_quota: LineQuota | None = None

    @property
    def line_messages(self) -> int:
        return self.addresses_by_channel.get(Channel.LINE, 0)

    @property
    def line_remaining_after(self) -> int | None:
        if self.line_quota is None or self.line_quota.limit is None:
            return None
        return self.line_quota.limit - self.line_quota.used - self.line_messages


async def preview(
    broadcast_id: int,
    settings: Settings,
    *,
    line_quota: LineQuota | None = None,
    language: Language = Language.JA,
) -> BroadcastPreview:
    """Who it will reach and exactly how each channel will show it."""
    broadcast = await _get(broadcast_id)
    scope = Scope.from_json(broadcast.scope)
    guardian_ids = await _recipients(scope)
    by_channel: dict[Channel, int] = {}
    for start in range(0, len(guardian_ids), 5000):
        chosen = _chosen_addresses(await _addresses_of(guardian_ids[start : start + 5000]), broadcast)
        for _, _, channel in chosen:
            by_channel[channel] = by_channel.get(channel, 0) + 1
    samples = {
        channel: render(
            NoticeKind.BROADCAST,
            channel,
            language,
            broadcast_context(broadcast, settings, ack_token="PREVIEW", channel=channel),
        )
        for channel in Channel
    }
    return BroadcastPreview(broadcast, scope.label(), len(guardian_ids), by_channel, samples, line_quota)


async def confirm(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> Broadcast:
    """Confirm a draft: the worker fans it out at once (see ``continue_fanouts``)."""
    async with in_transaction():
        broadcast = await _get(broadcast_id, for_update=True)
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise UserError(f"broadcast {broadcast_id} is {broadcast.status.value}, not a draft")
        if by is not None:
            await check_scope_allowed(by, Scope.from_json(broadcast.scope))
        broadcast.status = BroadcastStatus.CONFIRMED
        broadcast.confirmed_at = datetime.now(UTC)
        broadcast.confirmed_by = by
        await broadcast.save(update_fields=["status", "confirmed_at", "confirmed_by_id"])
        await audit.record(actor or _actor(by), "broadcast.confirm", target=f"broadcast:{broadcast.id}")
    return broadcast


async def cancel(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> Broadcast:
    async with in_transaction():
        broadcast = await _get(broadcast_id, for_update=True)
        if broadcast.status is not BroadcastStatus.DRAFT:
            raise UserError(f"broadcast {broadcast_id} is {broadcast.status.value}: only a draft can be cancelled")
        broadcast.status = BroadcastStatus.CANCELLED
        await broadcast.save(update_fields=["status"])
        await audit.record(actor or _actor(by), "broadcast.cancel", target=f"broadcast:{broadcast.id}")
    return broadcast


# ---- fan-out ---------------------------------------------------------------------------------


async def fanout_pending() -> bool:
    return await Broadcast.filter(status=BroadcastStatus.CONFIRMED).exists()


async def continue_fanouts(settings: Settings) -> int:
    """Fan out every confirmed broadcast a batch at a time; returns deliveries queued."""
    queued = 0
    for broadcast_id in await Broadcast.filter(status=BroadcastStatus.CONFIRMED).values_list("id", flat=True):
        while True:
            added, finished = await _fan_out_batch(broadcast_id, settings)
            queued += added
            if finished:
                break
    return queued


async def _fan_out_batch(broadcast_id: int, settings: Settings) -> tuple[int, bool]:
    async with in_transaction():
        broadcast = await Broadcast.filter(id=broadcast_id).select_for_update().first()
        if broadcast is None or broadcast.status is not BroadcastStatus.CONFIRMED:
            return 0, True
        scope = Scope.from_json(broadcast.scope)
        guardian_ids = await _recipients(scope, after=broadcast.fanout_cursor, limit=settings.delivery.fanout_batch)
        if not guardian_ids:
            broadcast.status = BroadcastStatus.FANNED_OUT
            broadcast.fanned_out_at = datetime.now(UTC)
            await broadcast.save(update_fields=["status", "fanned_out_at"])
            return 0, True
        now = datetime.now(UTC)
        expires = (broadcast.confirmed_at or now) + timedelta(hours=settings.delivery.broadcast_expiry_hours)
        priority = Priority.URGENT if broadcast.category in URGENT_CATEGORIES else Priority.NORMAL
        rows = [
            {
                "idempotency_key": f"broadcast:{broadcast.id}:a{address_id}",
                "kind": NoticeKind.BROADCAST,
                "channel": channel,
                "priority": int(priority),
                "address_id": address_id,
                "guardian_id": guardian_id,
                "broadcast_id": broadcast.id,
                "next_attempt_at": now,
                "expires_at": expires,
                "ack_token": new_token() if broadcast.ack_requested else None,
            }
            for guardian_id, address_id, channel in _chosen_addresses(await _addresses_of(guardian_ids), broadcast)
        ]
        await insert_rows(Delivery, rows, ignore_conflicts=True)
        broadcast.fanout_cursor = guardian_ids[-1]
        await broadcast.save(update_fields=["fanout_cursor"])
        return len(rows), False


async def _recipients(scope: Scope, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Guardian ids in scope, ascending."""
    query = Guardian.filter(wants_broadcasts=True, id__gt=after)
    if not scope.whole_city:
        query = query.filter(await _scope_filter(scope))
    query = query.distinct().order_by("id")
    if limit is not None:
        query = query.limit(limit)
    return list(await query.values_list("id", flat=True))


async def _scope_filter(scope: Scope) -> Q:
    halls = {s.id for s in await Site.filter(id__in=[t.site_id for t in scope.targets], kind=SiteKind.HALL)}
    conditions = []
    for target in scope.targets:
        if target.site_id in halls:
            since = datetime.now(UTC) - timedelta(days=HALL_PUPILS_DAYS)
            pupil_ids = (
                await Passage.filter(site_id=target.site_id, seen_at__gte=since, pupil_id__isnull=False)
                .distinct()
                .values_list("pupil_id", flat=True)
            )
            conditions.append(Q(pupils__id__in=list(pupil_ids) or [0]))
            continue
        condition = Q(pupils__school_id=target.site_id)
        if target.grade is not None:
            condition &= Q(pupils__grade=target.grade)
        if target.class_name is not None:
            condition &= Q(pupils__class_name=target.class_name)
        conditions.append(condition)
    return Q(*conditions, join_type=Q.OR)


async def _addresses_of(guardian_ids: list[int]) -> list[tuple[int, int, int, str]]:
    """(guardian id, slot, address id, channel) of the active, verified addresses."""
    return list(
        await ContactAddress.filter(
            guardian_id__in=guardian_ids,
            status=AddressStatus.ACTIVE,
            slot__isnull=False,
        )
        .order_by("guardian_id", "slot")
        .values_list("guardian_id", "slot", "id", "channel")
    )


def _chosen_addresses(
    addresses: list[tuple[int, int, int, str]], broadcast: Broadcast
) -> list[tuple[int, int, Channel]]:
    """(guardian id, address id, channel) to send to: all, or only the first when ack is asked."""
    chosen, seen = [], set()
    for guardian_id, _, address_id, channel in addresses:
        if broadcast.ack_requested and guardian_id in seen:
            continue
        seen.add(guardian_id)
        chosen.append((guardian_id, address_id, Channel(channel)))
    return chosen


# ---- acknowledgement and escalation ---------------------------------------------------------------


async def acknowledge(token: str, *, channel: Channel | None = None) -> Broadcast | None:
    """Record the one-click acknowledgement behind ``token``; None for an unknown token."""
    delivery = await Delivery.get_or_none(ack_token=token).only("id", "broadcast_id", "guardian_id", "channel")
    if delivery is None or delivery.broadcast_id is None or delivery.guardian_id is None:
        return None
    await _record_ack(delivery.broadcast_id, delivery.guardian_id, channel or delivery.channel)
    return await Broadcast.get(id=delivery.broadcast_id)


async def acknowledge_by_address(broadcast_id: int, channel: Channel, address_value: str) -> bool:
    """A chat postback: the chat identifies the guardian(s) it belongs to."""
    from core.addresses import address_index

    guardian_ids = await Delivery.filter(
        broadcast_id=broadcast_id,
        address__value_index=address_index(channel, address_value),
        address__channel=channel,
    ).values_list("guardian_id", flat=True)
    for guardian_id in set(guardian_ids):
        await _record_ack(broadcast_id, guardian_id, channel)
    return bool(guardian_ids)


async def acknowledge_as_guardian(broadcast_id: int, guardian_id: int) -> bool:
    """A logged-in guardian acknowledges on the portal; False when it was never sent to them."""
    if not await Delivery.filter(broadcast_id=broadcast_id, guardian_id=guardian_id).exists():
        return False
    await BroadcastAck.get_or_create(broadcast_id=broadcast_id, guardian_id=guardian_id, defaults={"channel": "portal"})
    return True


async def _record_ack(broadcast_id: int, guardian_id: int, channel: Channel) -> None:
    await BroadcastAck.get_or_create(
        broadcast_id=broadcast_id, guardian_id=guardian_id, defaults={"channel": channel.value}
    )


async def escalate_unacknowledged(settings: Settings, *, now: datetime | None = None) -> int:
    """Send again, on the other channel, what was not acknowledged in time; returns how many."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(minutes=settings.delivery.ack_escalation_minutes)
    window = now - timedelta(hours=settings.delivery.broadcast_expiry_hours)
    queued = 0
    for broadcast in await Broadcast.filter(
        ack_requested=True,
        status__in=[BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT],
        confirmed_at__gte=window,
    ):
        queued += await _escalate(broadcast, cutoff, settings)
    return queued


async def _escalate(broadcast: Broadcast, cutoff: datetime, settings: Settings) -> int:
    fact = f"broadcast:{broadcast.id}:escalation"
    sent = dict(
        await Delivery.filter(
            broadcast_id=broadcast.id,
            status=DeliveryStatus.SENT,
            sent_at__lte=cutoff,
        )
        .exclude(idempotency_key__startswith=fact)
        .values_list("guardian_id", "channel")
    )
    acked = set(await BroadcastAck.filter(broadcast_id=broadcast.id).values_list("guardian_id", flat=True))
    escalated = set(
        await Delivery.filter(
            broadcast_id=broadcast.id,
            idempotency_key__startswith=fact,
        ).values_list("guardian_id", flat=True)
    )
    waiting = [g for g in sent if g not in acked and g not in escalated]
    queued = 0
    expires = (broadcast.confirmed_at or cutoff) + timedelta(hours=settings.delivery.broadcast_expiry_hours)
    for start in range(0, len(waiting), 1000):
        chunk = waiting[start : start + 1000]
        async with in_transaction():
            for address in await ContactAddress.filter(
                guardian_id__in=chunk, status=AddressStatus.ACTIVE, slot__isnull=False
            ).order_by("slot"):
                if address.channel.value == sent[address.guardian_id] or address.guardian_id in escalated:
                    continue
                escalated.add(address.guardian_id)
                if await enqueue(
                    kind=NoticeKind.BROADCAST,
                    fact=fact,
                    address=address,
                    broadcast_id=broadcast.id,
                    priority=Priority.URGENT,
                    expires_at=expires,
                ):
                    queued += 1
    return queued


# ---- status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotReached:
    guardian_id: int
    login_id: str
    reasons: tuple[str, ...]


@dataclass
class BroadcastCounts:
    broadcast: Broadcast
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    expired: int = 0
    acknowledged: int = 0
    recipients: int = 0
    not_reached: list[NotReached] = field(default_factory=list)
    not_reached_total: int = 0

    @property
    def pending(self) -> int:
        return self.queued + self.sending

    @property
    def fanning_out(self) -> bool:
        return self.broadcast.status is BroadcastStatus.CONFIRMED


async def status(broadcast_id: int, *, not_reached_limit: int = 200) -> BroadcastCounts:
    broadcast = await _get(broadcast_id)
    counts = BroadcastCounts(broadcast)
    for row in (
        await Delivery.filter(broadcast_id=broadcast_id)
        .group_by("status")
        .annotate(n=Count("id"))
        .values("status", "n")
    ):
        setattr(counts, DeliveryStatus(row["status"]).value, row["n"])
    counts.acknowledged = await BroadcastAck.filter(broadcast_id=broadcast_id).count()
    outcomes: dict[int, list[tuple[str, str | None]]] = {}
    for guardian_id, state, error in await Delivery.filter(broadcast_id=broadcast_id).values_list(
        "guardian_id", "status", "last_error"
    ):
        outcomes.setdefault(guardian_id, []).append((state, error))
    counts.recipients = len(outcomes)
    unreached = [
        (guardian_id, tuple(dict.fromkeys(error or state for state, error in results)))
        for guardian_id, results in outcomes.items()
        if all(state in (DeliveryStatus.FAILED.value, DeliveryStatus.EXPIRED.value) for state, _ in results)
    ]
    if broadcast.status is BroadcastStatus.FANNED_OUT:
        in_scope = await _recipients(Scope.from_json(broadcast.scope))
        counts.recipients = len(in_scope)
        unreached += [(g, ("no registered address",)) for g in in_scope if g not in outcomes]
    counts.not_reached_total = len(unreached)
    shown = unreached[:not_reached_limit]
    logins = dict(await Guardian.filter(id__in=[g for g, _ in shown]).values_list("id", "login_id"))
    counts.not_reached = [NotReached(g, logins.get(g, "?"), reasons) for g, reasons in shown]
    return counts


async def resend_unreached(broadcast_id: int, *, by: StaffAccount | None, actor: str | None = None) -> int:
    """Queue the broadcast again to the current addresses of guardians not reached."""
    counts = await status(broadcast_id, not_reached_limit=1_000_000)
    fact = f"broadcast:{broadcast_id}:resend:{int(datetime.now(UTC).timestamp())}"
    guardian_ids = [n.guardian_id for n in counts.not_reached]
    queued = 0
    async with in_transaction():
        for address in await ContactAddress.filter(
            guardian_id__in=guardian_ids, status=AddressStatus.ACTIVE, slot__isnull=False
        ):
            if await enqueue(
                kind=NoticeKind.BROADCAST,
                fact=fact,
                address=address,
                broadcast_id=broadcast_id,
                priority=Priority.URGENT,
            ):
                queued += 1
        await audit.record(
            actor or _actor(by),
            "broadcast.resend",
            target=f"broadcast:{broadcast_id}",
            details={"guardians": len(guardian_ids), "deliveries": queued},
        )
    return queued


# ---- helpers -------------------------------------------------------------------------------------


async def _get(broadcast_id: int, *, for_update: bool = False) -> Broadcast:
    query = Broadcast.filter(id=broadcast_id)
    broadcast = await (query.select_for_update() if for_update else query).first()
    if broadcast is None:
        raise NotFound(f"there is no broadcast {broadcast_id}")
    return broadcast


def _actor(staff: StaffAccount | None) -> str:
    return f"staff:{staff.id}" if staff is not None else "system"


__all__ = [
    "BroadcastCounts",
    "BroadcastPreview",
    "LineQuota",
    "NotReached",
    "Scope",
    "Target",
    "acknowledge",
    "acknowledge_by_address",
    "cancel",
    "check_scope_allowed",
    "confirm",
    "continue_fanouts",
    "create_draft",
    "escalate_unacknowledged",
    "fanout_pending",
    "parse_scope",
    "preview",
    "resend_unreached",
    "status",
]
