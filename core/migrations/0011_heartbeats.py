from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0010_photo_view_via")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PartHeartbeat",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("part", fields.CharField(max_length=32)),
                ("process", fields.CharField(max_length=128)),
                ("last_round_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("failing_since", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("reason", fields.CharField(null=True, max_length=200)),
                ("written_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "part_heartbeat",
                "app": "core",
                "unique_together": (("part", "process"),),
                "pk_attr": "id",
                "table_description": 'One part ("delivery", "inbound", …) of one process (host and pid: no personal data).',
            },
            bases=["Model"],
        ),
    ]
