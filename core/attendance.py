"""The class board: for a school and a day, where each pupil with the IC-tag service stands.

A pupil is 下校 once a departure passed the school's gate, 登校 once an arrival did (or staff marked
them present by hand: the tag forgotten at home), else what a report says (欠席・遅刻・早退), else
未確認. The board reads every pupil, passage, report, mark and check of the day in one query each,
so a 1,000-pupil school costs the same few round trips as a class of thirty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from core import audit, zones
from core.absences import KIND_LABELS, REASON_LABELS
from core.actors import staff as staff_actor
from core.errors import UserError
from core.i18n import Message, _
from core.models import (
    AbsenceReport,
    AttendanceCheck,
    AttendanceMark,
    Direction,
    Passage,
    Pupil,
    ReportKind,
    ReportReason,
    Site,
    SiteKind,
    StaffAccount,
    StaffRole,
    TagStatus,
)


class State(StrEnum):
    LEFT = "left"  # 下校
    PRESENT = "present"  # 登校
    ABSENT = "absent"  # 欠席 (reported)
    LATE = "late"  # 遅刻 (reported, not arrived yet)
    EARLY = "early"  # 早退 (reported, not arrived)
    UNSEEN = "unseen"  # 未確認: neither seen nor reported


STATE_LABELS: dict[State, Message] = {
    State.LEFT: _("Left school"),
    State.PRESENT: _("At school"),
    State.ABSENT: _("Absent"),
    State.LATE: _("Late"),
    State.EARLY: _("Leaving early"),
    State.UNSEEN: _("Not seen"),
}
REPORT_LABELS = KIND_LABELS  # a report's kind, as the guardian's form names it (core.absences)


@dataclass(frozen=True)
class ReportLine:
    """A report as the board shows it: what, why, until when, and who made it."""

    kind: ReportKind
    reason: ReportReason
    at_time: time | None
    note: str | None
    by: str  # the guardian's name, or the staff member's login who took it by phone
    by_staff: bool
    late: bool  # made after the school's check time

    @property
    def label(self) -> Message:
        return REPORT_LABELS[self.kind]

    @property
    def reason_label(self) -> Message:
        return REASON_LABELS[self.reason]


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    grade: int
    class_name: str
    state: State
    arrived_at: datetime | None
    left_at: datetime | None
    marked: bool  # seen at school without a passage (タグ忘れ)
    marked_by_family: bool  # the family's one-tap "at school (tag forgotten)", not staff's own eyes
    report: ReportLine | None
    not_seen_notice: bool  # a check found the pupil not seen and told the family

    @property
    def label(self) -> Message:
        return STATE_LABELS[self.state]


@dataclass
class ClassBoard:
    grade: int
    class_name: str
    rows: list[Row] = field(default_factory=list)
    counts: Counter[State] = field(default_factory=Counter)


@dataclass(frozen=True)
class Board:
    site: Site
    day: date
    classes: list[ClassBoard]
    grades: dict[int, Counter[State]]
    totals: Counter[State]

    @property
    def noon(self) -> datetime:
        """The day as a moment, for the date filters (which write instants in a zone)."""
        return datetime.combine(self.day, time(12), zones.of(self.site))

    @property
    def not_seen_notices(self) -> list[Row]:
        return [row for c in self.classes for row in c.rows if row.not_seen_notice]


class Show(StrEnum):
    ALL = ""
    UNSEEN = "unseen"
    REPORTS = "reports"


async def staff_schools(staff: StaffAccount) -> list[Site]:
    """The schools whose boards ``staff`` may see: their own, or every one for an administrator."""
    sites = Site.filter(kind=SiteKind.SCHOOL)
    if staff.role is not StaffRole.ADMIN:
        sites = sites.filter(staff__id=staff.id)
    return await sites.order_by("name")


async def board(site: Site, day: date, show: Show = Show.ALL) -> Board:
    """The board of ``site`` on ``day``; ``show`` keeps only the unseen pupils or those with a report
    (counts are always of every pupil)."""
    pupils = await _tagged_pupils(site)
    arrivals, departures = await _passages(site, day)
    reports = await _reports(site.id, day)
    marks = dict(await AttendanceMark.filter(day=day, pupil__school_id=site.id).values_list("pupil_id", "guardian_id"))
    checked = await pupil_ids(AttendanceCheck.filter(site_id=site.id, day=day))
    rows = [
        _row(pupil, arrivals.get(pupil.id), departures.get(pupil.id), reports.get(pupil.id), marks) for pupil in pupils
    ]
    rows = [replace(row, not_seen_notice=True) if row.id in checked else row for row in rows]
    return _grouped(site, day, rows, show)


async def pupil_ids(query: QuerySet[Any], column: str = "pupil_id") -> set[int]:
    """The ``column`` of ``query``'s rows, as a set."""
    found = await query.values_list(column, flat=True)
    return set(cast(list[int], found))  # Tortoise types a flat values_list as a list of tuples


async def _tagged_pupils(site: Site) -> list[Pupil]:
    pupils = await (
        Pupil.filter(school_id=site.id, tags__status=TagStatus.ACTIVE)
        .distinct()
        .only("id", "name", "grade", "class_name")
    )
    return sorted(pupils, key=lambda p: (p.grade, p.class_name, p.name, p.id))  # names are sealed: sorted here


async def _passages(site: Site, day: date) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """Each pupil's first arrival and last departure at ``site`` on ``day``."""
    start, end = zones.day_bounds(day, zones.of(site))
    seen = await Passage.filter(
        site_id=site.id,
        seen_at__gte=start,
        seen_at__lt=end,
        pupil_id__isnull=False,
        direction__in=(Direction.ARRIVAL, Direction.DEPARTURE),
    ).values_list("pupil_id", "direction", "seen_at")
    arrivals: dict[int, datetime] = {}
    departures: dict[int, datetime] = {}
    for pupil_id, direction, seen_at in seen:
        if direction == Direction.ARRIVAL:
            arrivals[pupil_id] = min(seen_at, arrivals.get(pupil_id, seen_at))
        else:
            departures[pupil_id] = max(seen_at, departures.get(pupil_id, seen_at))
    return arrivals, departures


def covering(day: date) -> dict[str, object]:
    """The filter on ``AbsenceReport`` for the reports in force on ``day``."""
    return {"first_day__lte": day, "last_day__gte": day, "withdrawn_at__isnull": True}


async def _reports(site_id: int, day: date) -> dict[int, ReportLine]:
    found = await (
        AbsenceReport.filter(pupil__school_id=site_id, **covering(day))
        .select_related("guardian", "taken_by")
        .order_by("created_at", "id")
    )
    return {report.pupil_id: _line(report) for report in found}  # the latest report of a pupil wins


def _line(report: AbsenceReport) -> ReportLine:
    taker = report.taken_by
    by = taker.login_id if taker is not None else (report.guardian.name if report.guardian is not None else "")
    return ReportLine(
        kind=report.kind,
        reason=ReportReason(report.reason),
        at_time=report.at_time,
        note=report.note,
        by=by,
        by_staff=taker is not None,
        late=report.after_check,
    )


def _state(arrived: bool, left: bool, report: ReportLine | None) -> State:
    if left:
        return State.LEFT
    if arrived:
        return State.PRESENT
    if report is not None:
        return State(report.kind.value)
    return State.UNSEEN


def _row(
    pupil: Pupil,
    arrived_at: datetime | None,
    left_at: datetime | None,
    report: ReportLine | None,
    marks: dict[int, int | None],
) -> Row:
    marked = pupil.id in marks
    return Row(
        id=pupil.id,
        name=pupil.name,
        grade=pupil.grade,
        class_name=pupil.class_name,
        state=_state(arrived_at is not None or marked, left_at is not None, report),
        arrived_at=arrived_at,
        left_at=left_at,
        marked=marked and arrived_at is None,
        marked_by_family=marks.get(pupil.id) is not None,
        report=report,
        not_seen_notice=False,
    )


def _shown(row: Row, show: Show) -> bool:
    if show is Show.UNSEEN:
        return row.state is State.UNSEEN
    if show is Show.REPORTS:
        return row.report is not None
    return True


def _grouped(site: Site, day: date, rows: Iterable[Row], show: Show) -> Board:
    classes: dict[tuple[int, str], ClassBoard] = {}
    grades: dict[int, Counter[State]] = {}
    totals: Counter[State] = Counter()
    for row in rows:
        group = classes.setdefault((row.grade, row.class_name), ClassBoard(row.grade, row.class_name))
        group.counts[row.state] += 1
        grades.setdefault(row.grade, Counter())[row.state] += 1
        totals[row.state] += 1
        if _shown(row, show):
            group.rows.append(row)
    return Board(site, day, list(classes.values()), grades, totals)


async def mark_present(staff: StaffAccount, pupil_id: int, day: date) -> bool:
    """Staff saw the pupil at school without a passage (タグ忘れ): recorded once and audited; False
    when it was marked before."""
    pupil = await _pupil_for(staff, pupil_id)
    if day > zones.today(await Site.get(id=pupil.school_id)):
        raise UserError(_("A pupil cannot be marked present on a day still to come."))
    try:
        async with in_transaction():
            await AttendanceMark.create(pupil_id=pupil.id, day=day, marked_by=staff)
            await audit.record(
                staff_actor(staff), "attendance.mark", target=f"pupil:{pupil.id}", details={"day": day.isoformat()}
            )
    except IntegrityError:
        return False
    return True


async def _pupil_for(staff: StaffAccount, pupil_id: int) -> Pupil:
    schools = [site.id for site in await staff_schools(staff)]
    pupil = await Pupil.get_or_none(id=pupil_id, school_id__in=schools or [0]).only("id", "school_id")
    if pupil is None:
        raise UserError(_("There is no such pupil at your schools."))
    return pupil
