from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.models.calendar import CalendarDayKind


class Migration(migrations.Migration):
    dependencies = [("core", "0017_broadcast_translations")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CalendarEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "site",
                    fields.ForeignKeyField(
                        "core.Site",
                        source_field="site_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="calendar_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("first_day", fields.DateField()),
                ("last_day", fields.DateField()),
                (
                    "kind",
                    fields.CharEnumField(
                        description="OFF: off\nSCHOOL: school", enum_type=CalendarDayKind, max_length=10
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "calendar_entry",
                "app": "core",
                "indexes": [Index(fields=["site_id", "last_day"])],
                "pk_attr": "id",
                "table_description": "Days a site keeps differently from the national calendar (weekdays, minus Japan's holidays).",
            },
            bases=["Model"],
        ),
    ]
