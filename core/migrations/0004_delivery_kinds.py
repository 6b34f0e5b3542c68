from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.models.enums import NoticeKind


class Migration(migrations.Migration):
    dependencies = [("core", "0003_throttle")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="Delivery",
            name="kind",
            field=fields.CharEnumField(
                description="PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\nADDRESS_INACTIVE: address_inactive",
                enum_type=NoticeKind,
                max_length=20,
            ),
        ),
    ]
