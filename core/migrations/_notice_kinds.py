"""For the migrations that add a notice kind: only ``delivery.kind``'s description changes.

No database checks the values, so the column is left alone: SQLite does not rebuild the outbox
table (and lose its indexes, see 0009). Not a migration itself: the loader skips names with "_".
"""

from tortoise import fields
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


def kinds_described(description: str) -> ops.AlterField:
    """The operation that gives ``Delivery.kind`` the list of values ``description``."""
    return _DescriptionOnly(
        model_name="Delivery",
        name="kind",
        field=fields.CharEnumField(description=description, enum_type=NoticeKind, max_length=20),
    )
