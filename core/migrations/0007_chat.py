from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.models.enums import Channel


class Migration(migrations.Migration):
    dependencies = [("core", "0006_portal")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ChatEvent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "channel",
                    fields.CharEnumField(
                        description="EMAIL: email\nTELEGRAM: telegram\nLINE: line", enum_type=Channel, max_length=10
                    ),
                ),
                ("event_id", fields.CharField(max_length=100)),
                ("received_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "chat_event",
                "app": "core",
                "unique_together": (("channel", "event_id"),),
                "pk_attr": "id",
                "table_description": "A webhook event or bot update already handled, so a redelivered one is processed once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffLinkCode",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="staff_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="link_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code_index", fields.CharField(unique=True, max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "staff_link_code",
                "app": "core",
                "pk_attr": "id",
                "table_description": "A one-time code from the portal that links the chat it is sent from to a staff account.",
            },
            bases=["Model"],
        ),
    ]
