"""Deliveries of kind ``reply``: a bot's answer queued when the chat API was away.

Only the field's description (its list of values) changes, and no database checks the values:
the column is left alone, so SQLite does not rebuild the outbox table (and lose its indexes, see 0009).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State

from core.models.enums import NoticeKind


class _DescriptionOnly(ops.AlterField):
    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        pass

    async def database_backward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        pass


class Migration(migrations.Migration):
    dependencies = [("core", "0012_sealed_roster_ref")]

    initial = False

    operations = [
        _DescriptionOnly(
            model_name="Delivery",
            name="kind",
            field=fields.CharEnumField(
                description="PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\nADDRESS_INACTIVE: address_inactive\nREPLY: reply",
                enum_type=NoticeKind,
                max_length=20,
            ),
        ),
    ]
