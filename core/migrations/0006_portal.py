from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0005_passages")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PortalSession",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "core.StaffAccount",
                        source_field="staff_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("csrf_token", fields.CharField(max_length=64)),
                ("second_factor_done", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "portal_session",
                "app": "core",
                "indexes": [Index(fields=["guardian_id"]), Index(fields=["staff_id"]), Index(fields=["last_seen_at"])],
                "pk_attr": "id",
                "table_description": "A logged-in browser, known by the SHA-256 of its cookie token (the token is never stored).",
            },
            bases=["Model"],
        ),
    ]
