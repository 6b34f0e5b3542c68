from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0009_claim_order")]

    initial = False

    operations = [
        ops.AddField(
            model_name="PhotoView",
            name="via",
            field=fields.CharField(null=True, max_length=10),
        ),
    ]
