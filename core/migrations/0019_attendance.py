"""Attendance (issue 19): absence reports, hand marks, the checks that found a pupil not seen and
the one-tap answers to them, children's hall enrolments; each school's check time; a guardian's
choice of "not seen" notices; two notice kinds (only ``delivery.kind``'s description, as in 0013).

The new columns have defaults, so SQLite adds them in place.
"""

import datetime

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.fields import LocalTimeField, SealedText
from core.migrations._columns import AddColumnWithDefault
from core.migrations._notice_kinds import kinds_described
from core.models.attendance import CheckKind, ReportKind, ReportVia


class Migration(migrations.Migration):
    dependencies = [("core", "0018_school_calendar")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AbsenceReport",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="absence_reports",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="ABSENT: absent\nLATE: late\nEARLY: early", enum_type=ReportKind, max_length=10
                    ),
                ),
                ("first_day", fields.DateField()),
                ("last_day", fields.DateField()),
                ("at_time", LocalTimeField(null=True)),
                ("reason", SealedText()),
                ("note", SealedText(null=True)),
                ("collector", SealedText(null=True)),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="absence_reports",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "taken_by",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="taken_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="absence_reports_taken",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "via",
                    fields.CharEnumField(
                        description="PORTAL: portal\nTELEGRAM: telegram\nLINE: line\nANSWER: answer\nSTAFF: staff",
                        enum_type=ReportVia,
                        max_length=10,
                    ),
                ),
                ("after_check", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("withdrawn_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "absence_report",
                "app": "core",
                "indexes": [Index(fields=["pupil_id", "last_day"])],
                "pk_attr": "id",
                "table_description": "A guardian's (or, by phone, staff's) report that a pupil is absent, late or leaves early,",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AttendanceCheck",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attendance_checks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "site",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="site_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attendance_checks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                (
                    "kind",
                    fields.CharEnumField(
                        description="ARRIVAL: arrival\nLATE: late\nHALL: hall", enum_type=CheckKind, max_length=10
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "attendance_check",
                "app": "core",
                "unique_together": (("pupil", "day", "kind"),),
                "indexes": [Index(fields=["site_id", "day"])],
                "pk_attr": "id",
                "table_description": "One check that found a pupil not seen, once per pupil, day and kind: written before anyone is",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AttendanceMark",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attendance_marks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                (
                    "marked_by",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="marked_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="attendance_marks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="attendance_marks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "attendance_mark",
                "app": "core",
                "unique_together": (("pupil", "day"),),
                "pk_attr": "id",
                "table_description": "Staff saw the pupil at school without a passage (タグ忘れ, the tag forgotten at home): counts as seen.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CheckAnswerLink",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token", fields.CharField(unique=True, max_length=64)),
                (
                    "check",
                    fields.ForeignKeyField(
                        "core.AttendanceCheck",
                        source_field="check_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="answer_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="answer_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("answered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "check_answer_link",
                "app": "core",
                "unique_together": (("check", "guardian"),),
                "pk_attr": "id",
                "table_description": 'The link in one guardian\'s "not seen" notice to the one-tap answers (a page whose GET records nothing).',
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="HallEnrolment",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="hall_enrolments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "hall",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="hall_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="enrolments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("weekdays", fields.CharField(max_length=7)),
            ],
            options={
                "table": "hall_enrolment",
                "app": "core",
                "unique_together": (("pupil", "hall"),),
                "pk_attr": "id",
                "table_description": "A pupil expected at a children's hall after school on some weekdays.",
            },
            bases=["Model"],
        ),
        kinds_described(
            "PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\n"
            "ADDRESS_INACTIVE: address_inactive\nREPLY: reply\nMAIL_ANSWER: mail_answer\n"
            "BROADCASTS_STOPPED: broadcasts_stopped\nABSENCE_REPORT: absence_report\nNOT_SEEN: not_seen"
        ),
        AddColumnWithDefault(
            "guardian",
            "Guardian",
            "wants_attendance_alerts",
            fields.BooleanField(default=True),
            "BOOLEAN NOT NULL DEFAULT TRUE",
        ),
        AddColumnWithDefault(
            "site",
            "Site",
            "check_time",
            LocalTimeField(default=datetime.time(8, 40)),
            "VARCHAR(5) NOT NULL DEFAULT '08:40'",
        ),
    ]
