from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ThrottleState",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("key", fields.CharField(unique=True, max_length=64)),
                ("failures", fields.IntField(default=0)),
                ("last_failure_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("blocked_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "throttle_state",
                "app": "core",
                "pk_attr": "id",
                "table_description": "Recent failures for one key (an account, a client address, a chat), keyed by blind index.",
            },
            bases=["Model"],
        ),
    ]
