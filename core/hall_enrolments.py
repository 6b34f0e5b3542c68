"""Which pupils a children's hall expects after school, and on which weekdays (the hall check's input)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from core import audit, sealing
from core.accounts import site_named
from core.errors import NotFound, UserError
from core.i18n import _
from core.models import HallEnrolment, Pupil, Site, SiteKind

WEEKDAYS = "1234567"  # ISO: Monday is 1


@dataclass(frozen=True)
class PupilRef:
    """A pupil as a hall's list names them: school, grade, class and full name."""

    school: str
    grade: int
    class_name: str
    name: str


async def enrol(hall_name: str, pupil: PupilRef, weekdays: str, *, actor: str) -> HallEnrolment:
    """Expect ``pupil`` at the hall on ``weekdays`` (e.g. "135"); a pupil enrolled before gets the new days."""
    days = checked_weekdays(weekdays)
    hall, found = await _hall(hall_name), await find_pupil(pupil)
    async with in_transaction():
        enrolment, _created = await HallEnrolment.update_or_create(
            defaults={"weekdays": days}, pupil_id=found.id, hall_id=hall.id
        )
        await audit.record(actor, "hall.enrol", target=f"pupil:{found.id}", details={"hall": hall.id, "weekdays": days})
    return enrolment


async def withdraw(hall_name: str, pupil: PupilRef, *, actor: str) -> bool:
    """The hall no longer expects ``pupil``; False when it did not."""
    hall, found = await _hall(hall_name), await find_pupil(pupil)
    async with in_transaction():
        removed = await HallEnrolment.filter(pupil_id=found.id, hall_id=hall.id).delete()
        if removed:
            await audit.record(actor, "hall.withdraw", target=f"pupil:{found.id}", details={"hall": hall.id})
    return bool(removed)


async def enrolled(hall_name: str) -> list[tuple[Pupil, str]]:
    """The hall's pupils and their weekdays, by school, grade and class."""
    hall = await _hall(hall_name)
    rows = await HallEnrolment.filter(hall_id=hall.id).prefetch_related("pupil__school")
    found = [(row.pupil, row.weekdays) for row in rows]
    return sorted(found, key=lambda item: (item[0].school.name, item[0].grade, item[0].class_name, item[0].name))


def checked_weekdays(text: str) -> str:
    days = "".join(sorted(set(text.strip())))
    if not days or any(day not in WEEKDAYS for day in days):
        raise UserError(_("Give the weekdays as digits, 1 for Monday to 7 for Sunday, e.g. 12345."))
    return days


async def _hall(name: str) -> Site:
    hall = await site_named(name)
    if hall.kind is not SiteKind.HALL:
        raise UserError(_("%(name)s is not a children's hall.", name=hall.name))
    return hall


async def find_pupil(ref: PupilRef) -> Pupil:
    school = await site_named(ref.school)
    index = sealing.installed().blind_index("name", ref.name.strip())
    pupil = await Pupil.get_or_none(school_id=school.id, grade=ref.grade, class_name=ref.class_name, name_index=index)
    if pupil is None:
        raise NotFound(_("%(school)s has no such pupil in that grade and class.", school=school.name))
    return pupil
