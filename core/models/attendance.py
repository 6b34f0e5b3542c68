"""Attendance: what guardians report (欠席・遅刻・早退), what staff mark by hand, which pupils a
check found not seen, the one-tap answers to it, and which pupils a children's hall expects."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from core.fields import LocalTimeField, SealedText
from core.models.people import Guardian, Pupil
from core.models.sites import Site
from core.models.staff import StaffAccount


class ReportKind(StrEnum):
    ABSENT = "absent"  # 欠席
    LATE = "late"  # 遅刻, with the time the pupil is expected
    EARLY = "early"  # 早退, with the time the pupil leaves and who collects them


class ReportReason(StrEnum):
    """Stored sealed: a reason for missing school is health information (要配慮個人情報)."""

    ILLNESS = "illness"  # 体調不良
    HOSPITAL = "hospital"  # 通院
    FAMILY = "family"  # 家庭の事情
    BEREAVEMENT = "bereavement"  # 忌引
    OTHER = "other"  # その他


class ReportVia(StrEnum):
    PORTAL = "portal"
    TELEGRAM = "telegram"
    LINE = "line"
    ANSWER = "answer"  # a one-tap answer to a "not seen" notice
    STAFF = "staff"  # taken by phone and recorded by staff


class CheckKind(StrEnum):
    ARRIVAL = "arrival"  # at the school's check time: no arrival and no report
    LATE = "late"  # a while after a late report's expected time: still not arrived
    HALL = "hall"  # left school, not seen at the children's hall expected that day


class AbsenceReport(Model):
    """A guardian's (or, by phone, staff's) report that a pupil is absent, late or leaves early,
    for one day or a range of days."""

    id = fields.IntField(primary_key=True)
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="absence_reports", on_delete=fields.CASCADE
    )
    pupil_id: int
    kind = fields.CharEnumField(ReportKind, max_length=10)
    first_day = fields.DateField()
    last_day = fields.DateField()
    at_time = LocalTimeField(null=True)  # late: expected arrival; early: leaving time (the school's zone)
    reason = SealedText()  # a ReportReason's value, sealed
    note = SealedText(null=True)
    collector = SealedText(null=True)  # early: who collects the pupil
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="absence_reports", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None  # who reported (a guardian, or the one staff spoke to)
    taken_by: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="absence_reports_taken", null=True, on_delete=fields.SET_NULL
    )
    taken_by_id: int | None  # staff who recorded a report given by phone
    via = fields.CharEnumField(ReportVia, max_length=10)
    after_check = fields.BooleanField(default=False)  # made after the school's check time on its first day
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "absence_report"
        indexes = (("pupil_id", "last_day"),)


class AttendanceMark(Model):
    """Staff saw the pupil at school without a passage (タグ忘れ, the tag forgotten at home): counts as seen."""

    id = fields.IntField(primary_key=True)
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="attendance_marks", on_delete=fields.CASCADE
    )
    pupil_id: int
    day = fields.DateField()
    marked_by: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="attendance_marks", null=True, on_delete=fields.SET_NULL
    )
    marked_by_id: int | None
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="attendance_marks", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None  # a guardian's one-tap "at school (tag forgotten)", when no staff marked it
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attendance_mark"
        unique_together = (("pupil", "day"),)


class AttendanceCheck(Model):
    """One check that found a pupil not seen, once per pupil, day and kind: written before anyone is
    told, so a restart or a second worker does not tell anyone twice."""

    id = fields.IntField(primary_key=True)
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="attendance_checks", on_delete=fields.CASCADE
    )
    pupil_id: int
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="attendance_checks", on_delete=fields.CASCADE
    )
    site_id: int  # the school, or the hall for a hall check
    day = fields.DateField()
    kind = fields.CharEnumField(CheckKind, max_length=10)
    at = fields.DatetimeField()

    class Meta:
        table = "attendance_check"
        unique_together = (("pupil", "day", "kind"),)
        indexes = (("site_id", "day"),)


class CheckAnswerLink(Model):
    """The link in one guardian's "not seen" notice to the one-tap answers (a page whose GET records nothing)."""

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=64, unique=True)
    check: fields.ForeignKeyRelation[AttendanceCheck] = fields.ForeignKeyField(
        "core.AttendanceCheck", related_name="answer_links", on_delete=fields.CASCADE
    )
    check_id: int
    guardian: fields.ForeignKeyRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="answer_links", on_delete=fields.CASCADE
    )
    guardian_id: int
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "check_answer_link"
        unique_together = (("check", "guardian"),)


class HallEnrolment(Model):
    """A pupil expected at a children's hall after school on some weekdays."""

    id = fields.IntField(primary_key=True)
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="hall_enrolments", on_delete=fields.CASCADE
    )
    pupil_id: int
    hall: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="enrolments", on_delete=fields.CASCADE
    )
    hall_id: int
    weekdays = fields.CharField(max_length=7)  # ISO weekdays, "12345" for Monday to Friday

    class Meta:
        table = "hall_enrolment"
        unique_together = (("pupil", "hall"),)
