"""Builders for the attendance tests and benches: a school's day of passages, reports and marks."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from core import sealing, zones
from core.models import (
    AbsenceReport,
    Direction,
    Gate,
    Passage,
    PassageOutcome,
    Pupil,
    ReportKind,
    ReportReason,
    ReportVia,
    Site,
)

SCHOOL_DAY = date(2026, 12, 8)  # a Tuesday, no holiday


def at(day: date, hour: int, minute: int, site: Site | None = None) -> datetime:
    """``hour:minute`` on ``day`` in the site's zone (Tokyo by default), as a UTC instant."""
    zone = zones.of(site) if site is not None else zones.DEFAULT
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


async def pass_gate(gate: Gate, pupil: Pupil, moment: datetime, direction: Direction = Direction.ARRIVAL) -> Passage:
    """A passage of the pupil's tag as the ingest records it (the outcome does not matter here)."""
    number = f"T-{pupil.id}"
    return await Passage.create(
        event_id=uuid.uuid4(),
        gate=gate,
        site_id=gate.site_id,
        pupil=pupil,
        tag_number=number,
        tag_number_index=sealing.installed().blind_index("tag", number),
        seen_at=moment,
        direction=direction,
        outcome=PassageOutcome.NOTIFIED,
    )


async def report(
    pupil: Pupil,
    kind: ReportKind,
    day: date,
    *,
    guardian_id: int | None = None,
    at_time: time | None = None,
    reason: ReportReason = ReportReason.ILLNESS,
    last_day: date | None = None,
) -> AbsenceReport:
    """A report as core.absences records one (written directly: the board and checks only read them)."""
    return await AbsenceReport.create(
        pupil=pupil,
        kind=kind,
        first_day=day,
        last_day=last_day or day,
        at_time=at_time,
        reason=reason.value,
        guardian_id=guardian_id,
        via=ReportVia.PORTAL,
    )
