from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0004_delivery_kinds")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Passage",
            name="photo_missing",
            field=fields.CharField(null=True, max_length=300),
        ),
    ]
