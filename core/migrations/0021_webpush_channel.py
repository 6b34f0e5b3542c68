"""The ``webpush`` channel (issue 21): only the description of the four ``channel`` columns changes.

No database checks the values, so the columns are left alone (as in 0013): SQLite does not rebuild
the tables and lose their indexes.
"""

from tortoise import fields, migrations

from core.migrations._notice_kinds import _DescriptionOnly
from core.models.enums import Channel

_CHANNELS = "EMAIL: email\nTELEGRAM: telegram\nLINE: line\nWEBPUSH: webpush"


class Migration(migrations.Migration):
    dependencies = [("core", "0020_questions")]

    initial = False

    operations = [
        _DescriptionOnly(
            model_name=model,
            name="channel",
            field=fields.CharEnumField(description=_CHANNELS, enum_type=Channel, max_length=10),
        )
        for model in ("ContactAddress", "StaffAddress", "Delivery", "ChatEvent")
    ]
