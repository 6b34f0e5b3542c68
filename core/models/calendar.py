"""A site's own school calendar: the ranges of days it is closed (夏休み) or open on a day it would not be (土曜授業)."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from core.models.sites import Site


class CalendarDayKind(StrEnum):
    OFF = "off"  # no school: a long holiday, a foundation day, a closure known in advance
    SCHOOL = "school"  # school on a day that is otherwise off: a Saturday class, a day in the holidays


class CalendarEntry(Model):
    """Days a site keeps differently from the national calendar (weekdays, minus Japan's holidays)."""

    id = fields.IntField(primary_key=True)
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="calendar_entries", on_delete=fields.CASCADE
    )
    site_id: int
    first_day = fields.DateField()
    last_day = fields.DateField()
    kind = fields.CharEnumField(CalendarDayKind, max_length=10)
    name = fields.CharField(max_length=100)  # 夏休み, 開校記念日: the school's words, no personal data
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "calendar_entry"
        indexes = (("site_id", "last_day"),)
