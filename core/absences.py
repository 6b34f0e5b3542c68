"""Absence, lateness and leaving-early reports (欠席・遅刻・早退連絡): the one place they are written.

A report is for a pupil of the guardian's (or, taken by phone, of the staff member's school), for
days that are not over and that include a school day. Its reason, note and who collects the pupil
are health information (要配慮個人情報): sealed at rest, never in a log line, an audit entry or a
notice. Every report recorded, changed or withdrawn is confirmed to every active address of every
guardian of the pupil, so a report nobody in the family made is noticed. Reports stay changeable
after the school's check time on their first day, but are then marked ``after_check`` (shown as a
late report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from tortoise.transactions import in_transaction

from core import actors, audit, zones
from core.delivery.outbox import Priority, Recipient, enqueue_to_guardians
from core.delivery.wakeup import notices_queued
from core.errors import NotFound, UserError
from core.i18n import Message, _
from core.i18n.dates import format_date
from core.models import (
    AbsenceReport,
    AddressStatus,
    ContactAddress,
    Guardian,
    Language,
    NoticeKind,
    Pupil,
    ReportKind,
    ReportReason,
    ReportVia,
    Site,
    StaffAccount,
    StaffRole,
)
from core.passages import given_name
from core.school_calendar import calendar

MAX_DAYS = 31  # a longer absence is for the school to arrange, not a report
NOTE_LENGTH = 200
COLLECTOR_LENGTH = 50
HISTORY_DAYS = 60  # how far back a family's list of reports goes
CONFIRMATION_LIFETIME = timedelta(hours=24)

KIND_LABELS: dict[ReportKind, Message] = {
    ReportKind.ABSENT: _("Absent"),
    ReportKind.LATE: _("Late"),
    ReportKind.EARLY: _("Leaving early"),
}
REASON_LABELS: dict[ReportReason, Message] = {
    ReportReason.ILLNESS: _("Unwell"),
    ReportReason.HOSPITAL: _("Hospital visit"),
    ReportReason.FAMILY: _("Family reasons"),
    ReportReason.BEREAVEMENT: _("Bereavement"),
    ReportReason.OTHER: _("Other"),
}


@dataclass(frozen=True)
class DayName(Message):
    """A day in a sentence, written as the reader's language writes it (12月19日(土), Sat, Dec 19)."""

    day: date = date.min

    def translate(self, language: Language) -> str:
        noon = datetime.combine(self.day, time(12), tzinfo=zones.DEFAULT)  # any zone: the day is the day
        return format_date(noon, language, zones.DEFAULT, "MMMEd")


def day_name(day: date) -> Message:
    return DayName("", day=day)


class Change(StrEnum):
    """What happened to a report, as the confirmation notice and the audit log name it."""

    RECORDED = "recorded"
    CHANGED = "changed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Details:
    """What a person says about the days: checked by ``check_details`` before anything is written."""

    kind: ReportKind
    first_day: date
    last_day: date
    reason: ReportReason
    at_time: time | None = None
    note: str | None = None
    collector: str | None = None


@dataclass(frozen=True)
class Reporter:
    """Who makes a report: a guardian, or staff taking it by phone (perhaps naming the guardian)."""

    via: ReportVia
    guardian: Guardian | None = None
    taken_by: StaffAccount | None = None

    def actor(self) -> str:
        if self.taken_by is not None:
            return actors.staff(self.taken_by)
        assert self.guardian is not None  # a report has a guardian or a staff member behind it
        via = None if self.via is ReportVia.PORTAL else self.via.value
        return actors.guardian(self.guardian, via)


async def record_report(
    pupil: Pupil,
    kind: ReportKind,
    first_day: date,
    last_day: date | None,
    reason: ReportReason,
    *,
    guardian: Guardian | None,
    via: ReportVia,
    taken_by: StaffAccount | None = None,
    at_time: time | None = None,
    note: str | None = None,
    collector: str | None = None,
    now: datetime | None = None,
) -> AbsenceReport:
    """Record one report (a double tap returns the report the first tap made); UserError says why not."""
    details = Details(kind, first_day, last_day or first_day, reason, at_time, note, collector)
    reports = await record_reports([pupil], details, Reporter(via, guardian, taken_by), now=now)
    return reports[0]


async def record_reports(
    pupils: Sequence[Pupil], details: Details, reporter: Reporter, *, now: datetime | None = None
) -> list[AbsenceReport]:
    """One report per pupil ("both children" in one step): all of them, or none when one is refused."""
    now = now or datetime.now(UTC)
    details = _cleaned(details)
    await check_reports(pupils, details, reporter, now=now)
    async with in_transaction():
        reports = [await _record_one(pupil, details, reporter, now) for pupil in pupils]
    notices_queued()
    return reports


async def check_reports(
    pupils: Sequence[Pupil], details: Details, reporter: Reporter, *, now: datetime | None = None
) -> None:
    """Refuse (UserError; NotFound for a pupil not the reporter's) what ``record_reports`` would refuse."""
    for pupil in pupils:
        await _check_pupil(pupil, reporter)
        await check_details(await _school(pupil), _cleaned(details), now=now or datetime.now(UTC))


async def _record_one(pupil: Pupil, details: Details, reporter: Reporter, now: datetime) -> AbsenceReport:
    await _lock(pupil)
    twin = await _same_report(pupil, details)
    if twin is not None:
        return twin  # a double tap: recorded once
    school = await _school(pupil)
    report = await AbsenceReport.create(
        pupil_id=pupil.id,
        kind=details.kind,
        first_day=details.first_day,
        last_day=details.last_day,
        at_time=details.at_time,
        reason=details.reason.value,
        note=details.note,
        collector=details.collector,
        guardian_id=reporter.guardian.id if reporter.guardian else None,
        taken_by_id=reporter.taken_by.id if reporter.taken_by else None,
        via=reporter.via,
        after_check=after_check(school, details.first_day, now),
    )
    await _audit_and_confirm(report, pupil, school, Change.RECORDED, reporter, now)
    return report


async def change_report(
    report_id: int, details: Details, reporter: Reporter, *, now: datetime | None = None
) -> AbsenceReport:
    """Change a report that is not over; its first day may stay in the past, a new one may not."""
    now = now or datetime.now(UTC)
    report, pupil, school = await _own_open_report(report_id, reporter, now)
    details = _cleaned(details)
    _keep_the_past(report, school, now, details)
    await check_details(school, details, now=now, kept_first_day=report.first_day)
    async with in_transaction():
        await _lock(pupil)
        report.kind, report.first_day, report.last_day = details.kind, details.first_day, details.last_day
        report.reason, report.at_time = details.reason.value, details.at_time
        report.note, report.collector = details.note, details.collector
        report.after_check = report.after_check or after_check(school, report.first_day, now)
        await report.save()
        await _audit_and_confirm(report, pupil, school, Change.CHANGED, reporter, now)
    notices_queued()
    return report


async def withdraw_report(report_id: int, reporter: Reporter, *, now: datetime | None = None) -> AbsenceReport:
    now = now or datetime.now(UTC)
    report, pupil, school = await _own_open_report(report_id, reporter, now)
    _keep_the_past(report, school, now)
    async with in_transaction():
        report.withdrawn_at = now
        report.after_check = report.after_check or after_check(school, report.first_day, now)
        await report.save()
        await _audit_and_confirm(report, pupil, school, Change.WITHDRAWN, reporter, now)
    notices_queued()
    return report


async def reports_of(guardian: Guardian, *, now: datetime | None = None) -> list[AbsenceReport]:
    """The family's reports (by either guardian, or taken by the school), newest days first."""
    since = (now or datetime.now(UTC)).date() - timedelta(days=HISTORY_DAYS)
    pupils = [pupil.id for pupil in await guardian.pupils.all().only("id")]
    return (
        await AbsenceReport.filter(pupil_id__in=pupils or [0], last_day__gte=since)
        .order_by("-first_day", "-id")
        .prefetch_related("pupil", "pupil__school", "taken_by")
    )


async def reports_taken_at(staff: StaffAccount, *, limit: int = 50) -> list[AbsenceReport]:
    """The latest reports staff took by phone at the staff member's schools."""
    sites = await _sites_of(staff)
    query = AbsenceReport.filter(via=ReportVia.STAFF)
    if sites is not None:
        query = query.filter(pupil__school_id__in=sites or [0])
    return await query.order_by("-id").limit(limit).prefetch_related("pupil", "pupil__school", "taken_by")


async def pupils_for_staff(staff: StaffAccount) -> list[Pupil]:
    """The pupils a staff member may take a report for, by school, grade and class."""
    sites = await _sites_of(staff)
    query = Pupil.all() if sites is None else Pupil.filter(school_id__in=sites or [0])
    return await query.order_by("school_id", "grade", "class_name", "id").prefetch_related("school")


def is_open(report: AbsenceReport, school: Site, now: datetime) -> bool:
    """Whether a report may still be changed or withdrawn: not withdrawn, and its days not over."""
    return report.withdrawn_at is None and report.last_day >= zones.local(now, school).date()


def may_withdraw(report: AbsenceReport, school: Site, now: datetime) -> bool:
    """Whether a report may be withdrawn: open, and none of its days over yet."""
    return is_open(report, school, now) and report.first_day >= zones.local(now, school).date()


def moment(day: date, school: Site, at: time = time(12)) -> datetime:
    """A time of ``day`` at the school (noon by default: a day shown in any zone near it stays that day)."""
    return datetime.combine(day, at, tzinfo=zones.of(school))


def after_check(school: Site, day: date, now: datetime) -> bool:
    """Whether ``now`` is past the school's check time on ``day`` (a report then is a late one)."""
    return now >= moment(day, school, school.check_time)


async def check_details(school: Site, details: Details, *, now: datetime, kept_first_day: date | None = None) -> None:
    today = zones.local(now, school).date()
    if details.first_day < today and details.first_day != kept_first_day:
        raise UserError(_("%(day)s is over: report today or a day to come.", day=day_name(details.first_day)))
    if details.last_day < details.first_day:
        raise UserError(_("The last day comes before the first day."))
    if (details.last_day - details.first_day).days >= MAX_DAYS:
        raise UserError(_("A report covers at most %(days)s days.", days=MAX_DAYS))
    _check_what_is_needed(details)
    await _check_school_days(school, details)


def _keep_the_past(report: AbsenceReport, school: Site, now: datetime, details: Details | None = None) -> None:
    """Days that are over stay as reported: the school's record of them must not change afterwards."""
    if report.first_day >= zones.local(now, school).date():
        return
    if details is None:
        raise UserError(_("This report's first days are over: change its last day instead of withdrawing it."))
    if details.first_day != report.first_day or details.kind is not report.kind:
        raise UserError(_("This report's first days are over: only its last day and reason can change."))


def _check_what_is_needed(details: Details) -> None:
    if details.kind in (ReportKind.LATE, ReportKind.EARLY) and details.at_time is None:
        raise UserError(
            _("Say when your child will arrive.")
            if details.kind is ReportKind.LATE
            else _("Say when your child will leave.")
        )
    if details.kind is ReportKind.EARLY and not details.collector:
        raise UserError(_("Say who will collect your child."))
    if details.kind is not ReportKind.ABSENT and details.first_day != details.last_day:
        raise UserError(_("Lateness and leaving early are reported for one day at a time."))
    if details.note and len(details.note) > NOTE_LENGTH:
        raise UserError(_("The note is too long (at most %(count)s characters).", count=NOTE_LENGTH))
    if details.collector and len(details.collector) > COLLECTOR_LENGTH:
        raise UserError(
            _("The name of who collects is too long (at most %(count)s characters).", count=COLLECTOR_LENGTH)
        )


async def _check_school_days(school: Site, details: Details) -> None:
    days = await calendar(school, details.first_day, details.last_day)
    if any(day.school for day in days):
        return
    if len(days) == 1:
        raise UserError(
            _("%(day)s is not a school day (%(reason)s).", day=day_name(days[0].day), reason=days[0].reason or "")
        )
    raise UserError(
        _(
            "There is no school day from %(first)s to %(last)s.",
            first=day_name(details.first_day),
            last=day_name(details.last_day),
        )
    )


def _cleaned(details: Details) -> Details:
    note = (details.note or "").strip() or None
    collector = (details.collector or "").strip() or None
    if details.kind is ReportKind.ABSENT:
        return Details(details.kind, details.first_day, details.last_day, details.reason, None, note, None)
    if details.kind is ReportKind.LATE:
        collector = None
    return Details(details.kind, details.first_day, details.last_day, details.reason, details.at_time, note, collector)


async def _check_pupil(pupil: Pupil, reporter: Reporter) -> None:
    """A guardian reports for their own children; staff for the pupils of their schools."""
    if reporter.taken_by is not None:
        sites = await _sites_of(reporter.taken_by)
        if sites is not None and pupil.school_id not in sites:
            raise NotFound(_("There is no such pupil at your school."))
        return
    if reporter.guardian is None or not await reporter.guardian.pupils.filter(id=pupil.id).exists():
        raise NotFound(_("There is no such child on your account."))


async def _sites_of(staff: StaffAccount) -> list[int] | None:
    """The ids of a staff member's schools; None for an administrator (every school)."""
    if staff.role is StaffRole.ADMIN:
        return None
    return [site.id for site in await staff.sites.all().only("id")]


async def _own_open_report(report_id: int, reporter: Reporter, now: datetime) -> tuple[AbsenceReport, Pupil, Site]:
    report = await AbsenceReport.get_or_none(id=report_id)
    if report is None:
        raise NotFound(_("There is no such report."))
    pupil = await Pupil.get(id=report.pupil_id)
    await _check_pupil(pupil, reporter)
    school = await _school(pupil)
    if not is_open(report, school, now):
        raise UserError(_("This report is withdrawn or its days are over: it cannot be changed."))
    return report, pupil, school


async def _school(pupil: Pupil) -> Site:
    return await Site.get(id=pupil.school_id)


async def _lock(pupil: Pupil) -> None:
    """One report at a time per pupil on PostgreSQL (SQLite's one writer already does it), so two
    taps at once are one report."""
    await Pupil.select_for_update().filter(id=pupil.id).only("id").first()


async def _same_report(pupil: Pupil, details: Details) -> AbsenceReport | None:
    candidates = await AbsenceReport.filter(
        pupil_id=pupil.id,
        kind=details.kind,
        first_day=details.first_day,
        last_day=details.last_day,
        at_time=details.at_time,
        withdrawn_at__isnull=True,
    )
    # The reason is sealed, so it is compared here rather than in the query. The time is compared
    # too: "late, now at 11:00" after "late at 10:00" is news, not a double tap.
    return next((report for report in candidates if report.reason == details.reason.value), None)


async def _audit_and_confirm(
    report: AbsenceReport, pupil: Pupil, school: Site, change: Change, reporter: Reporter, now: datetime
) -> None:
    # no reason, note or collector here: the audit log is not sealed
    await audit.record(
        reporter.actor(),
        f"absence.{change.value}",
        target=f"absence_report:{report.id}",
        details={
            "pupil": pupil.id,
            "kind": report.kind.value,
            "first_day": report.first_day.isoformat(),
            "last_day": report.last_day.isoformat(),
            "via": reporter.via.value,
            "after_check": report.after_check,
        },
    )
    await enqueue_to_guardians(
        kind=NoticeKind.ABSENCE_REPORT,
        fact=f"absence-report:{report.id}:{change.value}:{int(now.timestamp() * 1000)}",
        recipients=await _family_addresses(pupil),
        payload=_notice_payload(report, pupil, school, change, reporter),
        priority=Priority.TRANSACTIONAL,
        expires_at=now + CONFIRMATION_LIFETIME,
    )


async def _family_addresses(pupil: Pupil) -> list[Recipient]:
    addresses = await ContactAddress.filter(
        guardian__pupils__id=pupil.id, slot__isnull=False, status=AddressStatus.ACTIVE
    ).order_by("guardian_id", "slot")
    return [Recipient.of(address) for address in addresses]


def _notice_payload(
    report: AbsenceReport, pupil: Pupil, school: Site, change: Change, reporter: Reporter
) -> dict[str, object]:
    """What the confirmation says: whose report, which days and what kind; never the reason or note."""
    return {
        "pupil": given_name(pupil.name),
        "site": school.name,
        "kind": report.kind.value,
        "change": change.value,
        # moments on those days in the school's zone, as the templates' date and time filters take them
        "first_day": moment(report.first_day, school).isoformat(),
        "last_day": moment(report.last_day, school).isoformat(),
        "at_time": moment(report.first_day, school, report.at_time).isoformat() if report.at_time else None,
        "by_school": reporter.taken_by is not None,
        "after_check": report.after_check,
        "zone": school.timezone,
    }
