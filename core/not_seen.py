"""The "not seen" checks: a pupil with the IC-tag service whom no gate saw by the time they were
expected is told to the family (one-tap answers) and listed to the staff, once.

Three checks, each at most once per pupil and day (``AttendanceCheck``'s unique key):
- arrival: at the school's check time on its school days, a pupil not closed out by a closure, with
  no passage at the school that day, no hand mark and no absence or lateness report;
- late: ``late_recheck_minutes`` after a late report's expected time, still no passage nor mark;
- hall: a pupil enrolled at a children's hall that weekday, who left school and was not seen at the
  hall ``hall_grace_minutes`` later.

The check rows are inserted first, ``ON CONFLICT DO NOTHING RETURNING``, and only the rows this
insert returned are told, in the same transaction: a second scheduler (PostgreSQL) waits on the
first one's uncommitted keys and then inserts nothing, and a restart finds the rows already there.
A site with a gate down holds its checks (a dead reader would make every pupil "not seen") and
tells its staff instead, once a day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from core import buttons, zones
from core.answers import Answer, answer_url
from core.attendance import covering, pupil_ids
from core.config import Settings
from core.db import as_datetime, connection, insert_rows, placeholder
from core.delivery.outbox import PersonalNotice, Priority, Recipient, enqueue, enqueue_personal
from core.identifiers import new_token
from core.models import (
    AbsenceReport,
    AddressStatus,
    AttendanceCheck,
    AttendanceMark,
    Channel,
    CheckAnswerLink,
    CheckKind,
    ContactAddress,
    Direction,
    Gate,
    HallEnrolment,
    NoticeKind,
    Passage,
    Pupil,
    ReportKind,
    Site,
    SiteKind,
    TagStatus,
)
from core.passages import given_name
from core.school_calendar import closed_pupils, school_day
from core.staff_notices import site_staff_addresses

log = logging.getLogger(__name__)

LISTED = 200  # names in one staff notice; the board has the rest
_settled: set[tuple[int, date, str]] = set()  # (site, day, what) this process need not look at again


@dataclass(frozen=True)
class Due:
    """A pupil a check found not seen, and the moment the check stands for (its notice's time)."""

    pupil_id: int
    at: datetime


def forget() -> None:
    """Drop what this process remembers of finished sweeps (as a restart would): for tests."""
    _settled.clear()


async def run_checks(settings: Settings, now: datetime) -> int:
    """Every check whose time has come; returns how many pupils were found not seen."""
    found = 0
    for site in await Site.filter(kind=SiteKind.SCHOOL):
        found += await _check_school(site, settings, now)
    return found + await _check_halls(settings, now)


async def _check_school(site: Site, settings: Settings, now: datetime) -> int:
    day = zones.local(now, site).date()
    if not await _has_school(site, day):
        return 0
    found = 0 if (site.id, day, "done") in _settled else await _arrival_check(site, day, settings, now)
    return found + await _late_check(site, day, settings, now)


async def _has_school(site: Site, day: date) -> bool:
    """Whether ``day`` is a school day at ``site`` (asked of the calendar once a day per process)."""
    if (site.id, day, "school") in _settled:
        return True
    if (site.id, day, "no school") in _settled:
        return False
    school = (await school_day(site, day)).school
    _settled.add((site.id, day, "school" if school else "no school"))
    return school


async def _arrival_check(site: Site, day: date, settings: Settings, now: datetime) -> int:
    due = datetime.combine(day, site.check_time, zones.of(site)).astimezone(UTC)
    if now < due:
        return 0
    if now >= due + timedelta(hours=settings.attendance.notice_hours):  # too late to tell anyone
        _settled.add((site.id, day, "done"))
        return 0
    expected = await _expected(site, day)
    if expected and await _holds(site, day, now):
        return 0
    unseen = await _not_arrived(site, day, expected)
    found = await _raise(site, day, CheckKind.ARRIVAL, [Due(pupil, due) for pupil in unseen], settings)
    _settled.add((site.id, day, "done"))
    return found


async def _expected(site: Site, day: date) -> set[int]:
    """The pupils of ``site`` with the IC-tag service whom no closure sent home on ``day``."""
    tagged = Pupil.filter(school_id=site.id, tags__status=TagStatus.ACTIVE)
    closed = await closed_pupils(site, day)
    if closed is not None:
        tagged = tagged.exclude(closed)
    return await pupil_ids(tagged.distinct(), "id")


async def _not_arrived(site: Site, day: date, pupils: set[int], excused: Sequence[ReportKind] = ()) -> set[int]:
    """Those of ``pupils`` neither seen at ``site`` on ``day``, nor marked, nor reported absent or late."""
    if not pupils:
        return set()
    start, end = zones.day_bounds(day, zones.of(site))
    seen = await pupil_ids(Passage.filter(site_id=site.id, seen_at__gte=start, seen_at__lt=end, pupil_id__in=pupils))
    marked = await pupil_ids(AttendanceMark.filter(day=day, pupil_id__in=pupils))
    reported = await _reported(pupils, day, excused or (ReportKind.ABSENT, ReportKind.LATE))
    return pupils - seen - marked - reported


async def _reported(pupils: set[int], day: date, kinds: Sequence[ReportKind]) -> set[int]:
    """Those of ``pupils`` with a report of one of ``kinds`` in force on ``day``."""
    return await pupil_ids(AbsenceReport.filter(pupil_id__in=pupils, kind__in=kinds, **covering(day)))


async def _checked(day: date, kind: CheckKind, pupils: Iterable[int]) -> set[int]:
    return await pupil_ids(AttendanceCheck.filter(day=day, kind=kind, pupil_id__in=list(pupils)))


async def _late_check(site: Site, day: date, settings: Settings, now: datetime) -> int:
    """Pupils reported late whose expected time plus ``late_recheck_minutes`` has passed, still not here."""
    reports = await AbsenceReport.filter(
        pupil__school_id=site.id, kind=ReportKind.LATE, at_time__isnull=False, **covering(day)
    ).values_list("pupil_id", "at_time")
    zone, after = zones.of(site), timedelta(minutes=settings.attendance.late_recheck_minutes)
    lifetime = timedelta(hours=settings.attendance.notice_hours)
    due = {pupil: datetime.combine(day, _time(at), zone).astimezone(UTC) + after for pupil, at in reports}
    ripe = {pupil: at for pupil, at in due.items() if at <= now < at + lifetime}
    if not ripe or (await _holds(site, day, now)):
        return 0
    waiting = set(ripe) - await _checked(day, CheckKind.LATE, ripe)
    if not waiting:
        return 0
    unseen = await _not_arrived(site, day, waiting & await _expected(site, day), excused=(ReportKind.ABSENT,))
    return await _raise(site, day, CheckKind.LATE, [Due(pupil, ripe[pupil]) for pupil in unseen], settings)


def _time(value: Any) -> time:
    """A stored local time (``values_list`` may hand back the column's raw text)."""
    return value if isinstance(value, time) else AbsenceReport._meta.fields_map["at_time"].to_python_value(value)


async def _holds(site: Site, day: date, now: datetime) -> bool:
    """Whether a gate of ``site`` is down: then its checks wait, and its staff are told so once a day."""
    if not await Gate.filter(site_id=site.id, revoked_at__isnull=True, down_since__isnull=False).exists():
        return False
    if (site.id, day, "held") not in _settled:
        payload = {"audience": "staff", "event": "held", "site": site.name, "at": now.isoformat()}
        await _tell_staff(site, f"checks-held:{site.id}:{day.isoformat()}", payload)
        _settled.add((site.id, day, "held"))
        log.info("attendance checks held at site %d: a gate is down", site.id)
    return True


async def _check_halls(settings: Settings, now: datetime) -> int:
    found = 0
    for hall in await Site.filter(kind=SiteKind.HALL, enrolments__id__isnull=False).distinct():
        found += await _check_hall(hall, settings, now)
    return found


async def _check_hall(hall: Site, settings: Settings, now: datetime) -> int:
    day = zones.local(now, hall).date()
    enrolled = await pupil_ids(HallEnrolment.filter(hall_id=hall.id, weekdays__contains=str(day.isoweekday())))
    if not enrolled:
        return 0
    start, end = zones.day_bounds(day, zones.of(hall))
    left = await _departures(list(enrolled), start, end)
    grace = timedelta(minutes=settings.attendance.hall_grace_minutes)
    lifetime = timedelta(hours=settings.attendance.notice_hours)
    ripe = {pupil: at + grace for pupil, at in left.items() if at + grace <= now < at + grace + lifetime}
    if not ripe:
        return 0
    # a pupil reported absent or leaving early (collected by the family) is expected at no hall
    collected = await _reported(set(ripe), day, (ReportKind.ABSENT, ReportKind.EARLY))
    waiting = set(ripe) - await _checked(day, CheckKind.HALL, ripe) - collected
    if not waiting or await _holds(hall, day, now):
        return 0
    arrived = await Passage.filter(
        site_id=hall.id, pupil_id__in=waiting, seen_at__gte=start, seen_at__lt=end
    ).values_list("pupil_id", "seen_at")
    seen = {pupil for pupil, at in arrived if as_datetime(at) >= ripe[pupil] - grace}
    return await _raise(hall, day, CheckKind.HALL, [Due(pupil, ripe[pupil]) for pupil in waiting - seen], settings)


async def _departures(pupils: list[int], start: datetime, end: datetime) -> dict[int, datetime]:
    """Each pupil's last departure from school in the window."""
    passages = await Passage.filter(
        pupil_id__in=pupils, direction=Direction.DEPARTURE, seen_at__gte=start, seen_at__lt=end
    ).values_list("pupil_id", "seen_at")
    left: dict[int, datetime] = {}
    for pupil, seen_at in passages:
        moment = as_datetime(seen_at)
        left[pupil] = max(moment, left.get(pupil, moment))
    return left


# ---- raising checks and telling people -----------------------------------------------------------


async def _raise(site: Site, day: date, kind: CheckKind, due: Sequence[Due], settings: Settings) -> int:
    """Write the checks, then tell the families and the staff of the pupils this call wrote."""
    if not due:
        return 0
    moments = {d.pupil_id: d.at for d in due}
    async with in_transaction():
        written = await _insert_checks(site.id, day, kind, sorted(moments))
        if written:
            await _tell(site, day, kind, written, moments, settings)
    if written:
        log.info("%d pupils not seen (%s check) at site %d", len(written), kind.value, site.id)
    return len(written)


async def _insert_checks(site_id: int, day: date, kind: CheckKind, pupils: list[int]) -> dict[int, int]:
    """Insert one check per pupil, skipping those written before; {pupil: check} of those written now."""
    client = connection()
    dialect = client.capabilities.dialect
    now = datetime.now(UTC)
    written: dict[int, int] = {}
    for chunk in _chunks(pupils, 500):
        marks = ", ".join(
            "(" + ", ".join(placeholder(dialect, 5 * n + i) for i in range(1, 6)) + ")" for n in range(len(chunk))
        )
        sql = (
            f'INSERT INTO "attendance_check" ("pupil_id", "site_id", "day", "kind", "at") VALUES {marks} '
            'ON CONFLICT DO NOTHING RETURNING "id", "pupil_id"'
        )
        values = [v for pupil in chunk for v in _check_values(pupil, site_id, day, kind, now)]
        rows = await client.execute_query_dict(sql, values)
        written.update({row["pupil_id"]: row["id"] for row in rows})
    return written


def _check_values(pupil: int, site_id: int, day: date, kind: CheckKind, now: datetime) -> list[Any]:
    """A row's values as Tortoise would send them (so SQLite stores the same text it writes)."""
    fields = AttendanceCheck._meta.fields_map
    stored = [
        fields[name].to_db_value(value, AttendanceCheck) for name, value in (("day", day), ("kind", kind), ("at", now))
    ]
    return [pupil, site_id, *stored]


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _tell(
    site: Site, day: date, kind: CheckKind, checks: dict[int, int], due: dict[int, datetime], settings: Settings
) -> None:
    pupils = {p.id: p for p in await Pupil.filter(id__in=list(checks)).only("id", "name", "grade", "class_name")}
    guardians = await _guardians_to_tell(list(checks))
    recipients = await _recipients({g for gs in guardians.values() for g in gs})
    links, notices = [], []
    lifetime = timedelta(hours=settings.attendance.notice_hours)
    base = settings.portal.public_url.rstrip("/")
    for pupil_id, check_id in checks.items():
        for guardian_id in guardians.get(pupil_id, ()):
            token = new_token()
            links.append({"token": token, "check_id": check_id, "guardian_id": guardian_id})
            payload = {
                "audience": "guardian",
                "check": kind.value,
                "pupil": given_name(pupils[pupil_id].name),
                "site": site.name,
                "at": due[pupil_id].isoformat(),
                "zone": site.timezone,
                "link_url": answer_url(base, token),
                "postbacks": _answer_buttons(token),
            }
            fact, told = f"not-seen:{check_id}", recipients.get(guardian_id, [])
            notices.append(PersonalNotice(fact, told, payload, expires_at=due[pupil_id] + lifetime))
    # above broadcasts, and quiet hours do not hold it: a missing child is not a matter for tomorrow
    await enqueue_personal(NoticeKind.NOT_SEEN, notices, priority=Priority.TRANSACTIONAL)
    await insert_rows(CheckAnswerLink, links)
    await _list_to_staff(site, day, kind, [pupils[p] for p in checks], base)


def _answer_buttons(token: str) -> list[list[str]]:
    """The one-tap answers as chat buttons: [label block, payload] (the page has them too)."""
    return [[f"{choice.value}_label", buttons.CheckAnswer(token, choice.value).pack()] for choice in Answer]


async def _guardians_to_tell(pupils: list[int]) -> dict[int, list[int]]:
    """{pupil: [guardian]} of the guardians who want "not seen" notices."""
    client = connection()
    marks = ", ".join(placeholder(client.capabilities.dialect, n + 2) for n in range(len(pupils)))
    sql = (
        "SELECT gp.pupil_id, gp.guardian_id FROM guardian_pupil gp JOIN guardian g ON g.id = gp.guardian_id "
        f"WHERE g.wants_attendance_alerts = {placeholder(client.capabilities.dialect, 1)} AND gp.pupil_id IN ({marks})"
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in await client.execute_query_dict(sql, [True, *pupils]):
        found[row["pupil_id"]].append(row["guardian_id"])
    return found


async def _recipients(guardians: set[int]) -> dict[int, list[Recipient]]:
    """Every active address of each guardian."""
    rows = await ContactAddress.filter(
        guardian_id__in=guardians, slot__isnull=False, status=AddressStatus.ACTIVE
    ).values_list("id", "channel", "guardian_id", "lane")
    found: dict[int, list[Recipient]] = defaultdict(list)
    for address_id, channel, guardian_id, lane in rows:
        found[guardian_id].append(Recipient(address_id, Channel(channel), guardian_id, lane))
    return found


async def _list_to_staff(site: Site, day: date, kind: CheckKind, pupils: list[Pupil], base: str) -> None:
    shown = sorted(pupils, key=lambda p: (p.grade, p.class_name, p.name, p.id))
    payload = {
        "audience": "staff",
        "event": "list",
        "check": kind.value,
        "site": site.name,
        "count": len(shown),
        "pupils": [{"name": p.name, "grade": p.grade, "class_name": p.class_name} for p in shown[:LISTED]],
        "link_url": f"{base}/staff/board?site={site.id}&day={day.isoformat()}&show=unseen",
    }
    first = min(p.id for p in pupils)
    await _tell_staff(site, f"not-seen-list:{site.id}:{day.isoformat()}:{kind.value}:{first}", payload)


async def _tell_staff(site: Site, fact: str, payload: dict[str, Any]) -> None:
    """One notice to every verified address of the site's staff, once per ``fact``."""
    for address in await site_staff_addresses(site):
        await enqueue(
            kind=NoticeKind.NOT_SEEN,
            fact=fact,
            staff_address=address,
            priority=Priority.TRANSACTIONAL,
            payload={**payload, "zone": site.timezone},
        )
