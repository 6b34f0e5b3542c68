"""What a staff member's start page counts for today at their sites: pupils arrived, not seen yet
(their schools' class boards), gates down, alerts under way (drills counted apart)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tortoise.expressions import Q

from core import attendance, broadcasts, zones
from core.models import (
    Broadcast,
    BroadcastStatus,
    Direction,
    Gate,
    Passage,
    PassageOutcome,
    Site,
    SiteKind,
    StaffAccount,
    StaffRole,
)

ALERTS_SHOWN_FOR = timedelta(hours=24)  # an alert confirmed within this is "in progress" on the start page


@dataclass
class Today:
    now: datetime
    sites: list[Site] = field(default_factory=list)
    everywhere: bool = False  # an administrator: every site
    counted: bool = False  # whether the counts below mean anything (the support desk has no sites)
    arrived: int = 0
    not_yet_seen: int | None = None  # on the class boards of their schools; None for an administrator (every school)
    gates_down: int = 0
    alerts: list[Broadcast] = field(default_factory=list)
    drills: list[Broadcast] = field(default_factory=list)  # 訓練 under way: never counted as alerts


async def today_for(staff: StaffAccount) -> Today:
    now = datetime.now(UTC)
    if staff.role is StaffRole.SUPPORT:
        return Today(now)
    everywhere = staff.role is StaffRole.ADMIN
    sites = await (Site.all() if everywhere else staff.sites.all()).order_by("name")
    ids = [s.id for s in sites] or [0]
    arrived = set(
        await Passage.filter(_today_at(sites), direction=Direction.ARRIVAL, outcome=PassageOutcome.NOTIFIED)
        .distinct()
        .values_list("pupil_id", flat=True)
    )
    down = await Gate.filter(site_id__in=ids, revoked_at__isnull=True, down_since__isnull=False).count()
    under_way = await _broadcasts_under_way(staff, now)
    return Today(
        now,
        sites=sites,
        everywhere=everywhere,
        counted=True,
        arrived=len(arrived - {None}),
        not_yet_seen=None if everywhere else await _not_yet_seen(sites),
        gates_down=down,
        alerts=[b for b in under_way if not b.is_drill],
        drills=[b for b in under_way if b.is_drill],
    )


async def _not_yet_seen(sites: list[Site]) -> int:
    schools = [site for site in sites if site.kind is SiteKind.SCHOOL]
    boards = [await attendance.board(site, zones.today(site)) for site in schools]
    return sum(board.totals[attendance.State.UNSEEN] for board in boards)


def _today_at(sites: list[Site]) -> Q:
    """Passages of each site's own today (sites in different zones have different todays)."""
    if not sites:
        return Q(site_id=0)  # (an empty Q would match every site's)
    by_day: dict[date, list[Site]] = {}
    for site in sites:
        by_day.setdefault(zones.today(site), []).append(site)
    return Q(*(zones.on_local_day(group, day, "seen_at") for day, group in by_day.items()), join_type=Q.OR)


async def _broadcasts_under_way(staff: StaffAccount, now: datetime) -> list[Broadcast]:
    recent = await Broadcast.filter(
        status__in=[BroadcastStatus.CONFIRMED, BroadcastStatus.FANNED_OUT], confirmed_at__gte=now - ALERTS_SHOWN_FOR
    ).order_by("-confirmed_at")
    return [b for b in recent if await broadcasts.may_see(staff, broadcasts.Scope.from_json(b.scope))]
