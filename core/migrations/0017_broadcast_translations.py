"""Staff may add a translation of a broadcast per language: a nullable JSON column on ``broadcast``
(nullable, so both databases add it in place; none means Japanese only)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0016_lanes")]

    initial = False

    operations = [
        ops.AddField(model_name="Broadcast", name="translations", field=fields.JSONField(null=True)),
    ]
