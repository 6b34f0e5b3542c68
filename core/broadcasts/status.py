"""How a broadcast is going: counts by outcome, who was not reached and why, who has not
acknowledged yet (each with their children and, to their school's staff, how to reach them), and
resending to those not reached or to those who have not answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core import actors, audit, unsubscribe
from core.addresses import receiving_broadcasts
from core.broadcasts.answers import unanswered_guardians
from core.broadcasts.helpers import _get
from core.broadcasts.people import Person, people
from core.broadcasts.reasons import NO_ADDRESS, ShownReason, shown
from core.broadcasts.scope import Scope, recipients
from core.broadcasts.tally import unanswered_families
from core.config import Settings
from core.delivery.outbox import BroadcastWave, Recipient, enqueue_broadcast
from core.delivery.summary import LaneCounts, lane_counts
from core.errors import UserError
from core.i18n import _
from core.models import (
    Broadcast,
    BroadcastAnswer,
    BroadcastStatus,
    ContactAddress,
    Delivery,
    DeliveryStatus,
    Priority,
    StaffAccount,
)
from core.questions import question_of


@dataclass(frozen=True)
class NotReached:
    guardian_id: int
    login_id: str
    reasons: tuple[str, ...]  # as stored
    person: Person | None = None

    @property
    def shown_reasons(self) -> tuple[ShownReason, ...]:
        return tuple(shown(reason) for reason in self.reasons)


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
    unacknowledged: list[Person] = field(default_factory=list)  # reached, not acknowledged (when asked)
    unacknowledged_total: int = 0
    not_reached: list[NotReached] = field(default_factory=list)
    not_reached_total: int = 0
    lanes: list[LaneCounts] = field(default_factory=list)  # by recipient group (docomo, gmail, ...)

    @property
    def pending(self) -> int:
        return self.queued + self.sending

    @property
    def fanning_out(self) -> bool:
        return self.broadcast.status is BroadcastStatus.CONFIRMED


async def status(
    broadcast_id: int, *, not_reached_limit: int = 200, viewer: StaffAccount | None = None
) -> BroadcastCounts:
    """The counts, and up to ``not_reached_limit`` of those not reached and of those who have not
    acknowledged; their addresses only where ``viewer`` is staff of a child's school."""
    broadcast = await _get(broadcast_id)
    counts = BroadcastCounts(broadcast)
    for row in (
        await Delivery.filter(broadcast_id=broadcast_id)
        .group_by("status")
        .annotate(n=Count("id"))
        .values("status", "n")
    ):
        setattr(counts, DeliveryStatus(row["status"]).value, row["n"])
    counts.acknowledged = await BroadcastAnswer.filter(broadcast_id=broadcast_id).count()  # pupils answered for
    counts.lanes = await lane_counts(broadcast_id=broadcast_id)
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
        in_scope = await recipients(Scope.from_json(broadcast.scope))
        counts.recipients = len(in_scope)
        unreached += await _without_deliveries([g for g in in_scope if g not in outcomes])
    counts.not_reached_total = len(unreached)
    shown = unreached[:not_reached_limit]
    waiting = await _unacknowledged(broadcast, outcomes) if broadcast.ack_requested else []
    counts.unacknowledged_total = len(waiting)
    found = await people([g for g, _ in shown] + waiting[:not_reached_limit], viewer=viewer)
    counts.not_reached = [
        NotReached(g, found[g].login_id if g in found else "?", reasons, found.get(g)) for g, reasons in shown
    ]
    counts.unacknowledged = [found[g] for g in waiting[:not_reached_limit] if g in found]
    return counts


async def _unacknowledged(broadcast: Broadcast, outcomes: dict[int, list[tuple[str, str | None]]]) -> list[int]:
    """Guardians it was sent to with a child nobody answered for yet, in id order."""
    sent = DeliveryStatus.SENT.value
    reached = [g for g, results in outcomes.items() if any(s == sent for s, _ in results)]
    return sorted(await unanswered_guardians(broadcast, reached))


async def _without_deliveries(guardian_ids: list[int]) -> list[tuple[int, tuple[str, ...]]]:
    """Why guardians in scope got no delivery: they stopped broadcasts to their addresses, or have none."""
    stopped: set[int] = set()
    for start in range(0, len(guardian_ids), 1000):
        # Tortoise types a flat values_list as a list of tuples; it is a list of the values
        stopped.update(
            cast(
                list[int],
                await ContactAddress.filter(
                    guardian_id__in=guardian_ids[start : start + 1000], broadcasts_stopped_at__isnull=False
                ).values_list("guardian_id", flat=True),
            )
        )
    return [(g, (unsubscribe.STOPPED if g in stopped else NO_ADDRESS,)) for g in guardian_ids]


async def resend_unreached(
    broadcast_id: int, settings: Settings, *, by: StaffAccount | None, actor: str | None = None
) -> int:
    """Queue the broadcast again to the current addresses of guardians not reached."""
    counts = await status(broadcast_id, not_reached_limit=1_000_000)
    guardian_ids = [n.guardian_id for n in counts.not_reached]
    return await _resend(
        counts.broadcast, guardian_ids, settings, "broadcast.resend", actor or actors.staff_or_system(by)
    )


async def resend_unanswered(
    broadcast_id: int, settings: Settings, *, by: StaffAccount | None, actor: str | None = None
) -> int:
    """Queue the broadcast again, to every current address, for guardians with a child in scope
    nobody has answered for; refused once the question is closed."""
    broadcast = await _get(broadcast_id)
    if question_of(broadcast) is None:
        raise UserError(_("This broadcast asks no question."))
    if broadcast.question_closed_at is not None:
        raise UserError(_("The question is closed: nothing more is sent for it."))
    if broadcast.status not in (BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT):
        raise UserError(_("Only a broadcast that was sent can be sent again."))
    guardian_ids = await unanswered_families(broadcast)
    return await _resend(
        broadcast, guardian_ids, settings, "broadcast.resend_unanswered", actor or actors.staff_or_system(by)
    )


async def _resend(broadcast: Broadcast, guardian_ids: list[int], settings: Settings, action: str, actor: str) -> int:
    """Queue ``broadcast`` again to every current address of ``guardian_ids`` (audited as ``action``)."""
    queued = 0
    async with in_transaction():
        for start in range(0, len(guardian_ids), 1000):
            addresses = await receiving_broadcasts(guardian_id__in=guardian_ids[start : start + 1000])
            queued += await enqueue_broadcast(
                broadcast,
                [Recipient.of(address) for address in addresses],
                settings.delivery,
                wave=BroadcastWave.RESEND,
                priority=Priority.URGENT,
            )
        await audit.record(
            actor,
            action,
            target=f"broadcast:{broadcast.id}",
            details={"guardians": len(guardian_ids), "deliveries": queued},
        )
    return queued
