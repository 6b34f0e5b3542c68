"""One-tap answers to a "not seen" notice: 欠席です / 遅刻します / 登校しています（タグ忘れ）.

The link in the notice (a ``CheckAnswerLink``'s token) is the credential, as a broadcast's
acknowledgement link is: whoever holds it may answer that one question — for that pupil, on that
day, once — and see what was answered. It opens no session and shows nothing else of the family
(no other report, no address, no photo), and it is good only on the day of the check. An absence or
lateness becomes a report through ``core.absences`` (so the family is told as for any report); "at
school" becomes an ``AttendanceMark`` with the guardian set, which counts as seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import absences, actors, audit, zones
from core.errors import UserError
from core.i18n import _
from core.models import (
    AbsenceReport,
    AttendanceCheck,
    AttendanceMark,
    CheckAnswerLink,
    Guardian,
    Pupil,
    ReportKind,
    ReportReason,
    ReportVia,
    Site,
)


class Answer(StrEnum):
    ABSENT = "absent"  # 欠席です
    LATE = "late"  # 遅刻します (with the time)
    AT_SCHOOL = "at_school"  # 登校しています（タグ忘れ）


@dataclass(frozen=True)
class Question:
    """What the link asks about, and what was answered (None: not yet)."""

    link: CheckAnswerLink
    pupil: Pupil
    school: Site
    day: date
    answered: Answer | None
    at_time: time | None = None  # the expected time, when the answer was "late"


def answer_url(portal_url: str, token: str) -> str:
    """The answer page of ``token`` (the notice's link; the chat's late answer points to it)."""
    return f"{portal_url.rstrip('/')}/attendance/answer/{token}"


async def question(token: str, *, now: datetime | None = None) -> Question | None:
    """The question behind ``token``; None when no link has it or its day is over."""
    link = await CheckAnswerLink.get_or_none(token=token)
    if link is None:
        return None
    check = await AttendanceCheck.get(id=link.check_id)
    pupil = await Pupil.get(id=check.pupil_id)
    school = await Site.get(id=pupil.school_id)
    if check.day != zones.local(now or datetime.now(UTC), school).date():
        return None
    answered, at_time = await _answered(link, check.pupil_id, check.day)
    return Question(link, pupil, school, check.day, answered, at_time)


async def answer(
    token: str,
    choice: Answer,
    *,
    at_time: time | None = None,
    reason: ReportReason = ReportReason.OTHER,
    now: datetime | None = None,
) -> Question | None:
    """Record the answer once; a second answer leaves the first and shows it. None: no such link."""
    now = now or datetime.now(UTC)
    asked = await question(token, now=now)
    if asked is None or asked.answered is not None or asked.link.answered_at is not None:
        return asked
    guardian = await Guardian.get(id=asked.link.guardian_id)
    if choice is Answer.AT_SCHOOL:
        await _mark_at_school(asked, guardian)
    else:
        kind = ReportKind.ABSENT if choice is Answer.ABSENT else ReportKind.LATE
        if kind is ReportKind.LATE and at_time is None:
            raise UserError(_("Say when your child will arrive."))
        await absences.record_report(
            asked.pupil,
            kind,
            asked.day,
            None,
            reason,
            guardian=guardian,
            via=ReportVia.ANSWER,
            at_time=at_time,
            now=now,
        )
    await CheckAnswerLink.filter(id=asked.link.id, answered_at__isnull=True).update(answered_at=now)
    return await question(token, now=now)


async def _mark_at_school(asked: Question, guardian: Guardian) -> None:
    async with in_transaction():
        try:
            async with in_transaction():  # a savepoint: staff may have marked the pupil already
                await AttendanceMark.create(pupil_id=asked.pupil.id, day=asked.day, guardian_id=guardian.id)
        except IntegrityError:
            pass
        await audit.record(
            actors.guardian(guardian, ReportVia.ANSWER.value),
            "attendance.at_school",
            target=f"pupil:{asked.pupil.id}",
            details={"day": asked.day.isoformat(), "check": asked.link.check_id},
        )


async def _answered(link: CheckAnswerLink, pupil_id: int, day: date) -> tuple[Answer | None, time | None]:
    if await AttendanceMark.filter(pupil_id=pupil_id, day=day, guardian_id=link.guardian_id).exists():
        return Answer.AT_SCHOOL, None
    report = await AbsenceReport.filter(
        pupil_id=pupil_id, first_day=day, via=ReportVia.ANSWER, guardian_id=link.guardian_id, withdrawn_at__isnull=True
    ).first()
    if report is not None:
        return (Answer.ABSENT if report.kind is ReportKind.ABSENT else Answer.LATE), report.at_time
    return None, None
