"""Telling a site's staff that something happened at one of its gates (an unknown tag, a silent gate)."""

from __future__ import annotations

from datetime import datetime

from core.delivery.outbox import Priority, enqueue
from core.models import Gate, NoticeKind, Site, StaffAddress, StaffRole


async def site_staff_addresses(site: Site) -> list[StaffAddress]:
    """Every verified address of the site's (enabled) staff."""
    return await StaffAddress.filter(
        verified_at__isnull=False,
        staff__role=StaffRole.STAFF,
        staff__disabled_at__isnull=True,
        staff__sites__id=site.id,
    ).distinct()


async def notify_site_staff(site: Site, *, fact: str, event: str, gate: Gate, at: datetime) -> int:
    """Queue a staff notice to every verified address of the site's staff; returns how many."""
    queued = 0
    for address in await site_staff_addresses(site):
        queued += (
            await enqueue(
                kind=NoticeKind.STAFF,
                fact=fact,
                staff_address=address,
                priority=Priority.LOW,
                payload={
                    "event": event,
                    "site": site.name,
                    "gate": gate.name,
                    "at": at.isoformat(),
                    "zone": site.timezone,
                },
            )
            is not None
        )
    return queued
