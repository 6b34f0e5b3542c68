"""Gates' health: who a gate key belongs to, heartbeats, and telling staff when a gate goes silent.

A gate silent for ``gate_health.silent_minutes`` during school hours is reported to its site's
staff once (``down_since`` marks it reported) and again when its next heartbeat arrives. Both
marks are compare-and-set updates, so several workers checking at once report a gate once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core import zones
from core.accounts import gate_key_hash
from core.config import GateHealthSettings, Settings
from core.db import first_with_related
from core.models import Gate, Site
from core.staff_notices import notify_site_staff
from core.wire import Heartbeat


async def gate_for_key(key: str) -> Gate | None:
    """The gate holding ``key``, unless it was revoked."""
    if not key:
        return None
    gate = await first_with_related(Gate, "site", 'm."key_hash" = {0} AND m."revoked_at" IS NULL', [gate_key_hash(key)])
    return gate


async def record_heartbeat(gate: Gate, heartbeat: Heartbeat, *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    async with in_transaction():
        await Gate.filter(id=gate.id).update(last_heartbeat_at=now, health=heartbeat.model_dump(mode="json"))
        if gate.down_since is None:
            return
        recovered = await Gate.filter(id=gate.id, down_since=gate.down_since).update(down_since=None)
        if recovered:
            site = await Site.get(id=gate.site_id)
            await notify_site_staff(
                site,
                fact=f"gate-recovered:{gate.id}:{gate.down_since.isoformat()}",
                event="gate_recovered",
                gate=gate,
                at=now,
            )


def in_school_hours(moment: datetime, site: Site, hours: GateHealthSettings) -> bool:
    local = zones.local(moment, site)
    return local.isoweekday() in hours.school_days and hours.school_hours_start <= local.time() < hours.school_hours_end


async def report_silent_gates(settings: Settings, *, now: datetime | None = None) -> list[Gate]:
    """Tell staff about gates gone silent during school hours; returns the gates reported."""
    now = now or datetime.now(UTC)
    hours = settings.gate_health
    silent = await Gate.filter(
        revoked_at__isnull=True,
        down_since__isnull=True,
        last_heartbeat_at__lt=now - timedelta(minutes=hours.silent_minutes),
    ).prefetch_related("site")
    reported = []
    for gate in silent:
        if not in_school_hours(now, gate.site, hours):
            continue
        async with in_transaction():
            marked = await Gate.filter(id=gate.id, down_since__isnull=True).update(down_since=gate.last_heartbeat_at)
            if marked:
                silent_since: datetime = gate.last_heartbeat_at  # type: ignore[assignment]  # __lt: not None
                await notify_site_staff(
                    gate.site,
                    fact=f"gate-down:{gate.id}:{silent_since.isoformat()}",
                    event="gate_down",
                    gate=gate,
                    at=silent_since,
                )
                reported.append(gate)
    return reported
