"""For the migrations that add a NOT NULL column to a table with rows: ``ALTER TABLE … ADD COLUMN …
DEFAULT …`` on both databases. Tortoise would add the column without a default, which fails on a
table with rows (and SQLite would rebuild the table and lose its indexes, see 0009). Not a migration
itself: the loader skips names with "_"."""

from typing import Any

from tortoise import fields
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State


class AddColumnWithDefault(ops.AddField):
    """``field`` in the models' state; ``sql`` (type, NOT NULL and DEFAULT) in the database."""

    def __init__(self, table: str, model_name: str, name: str, field: fields.Field[Any], sql: str) -> None:
        super().__init__(model_name=model_name, name=name, field=field)
        self._table = table
        self._sql = sql

    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        if state_editor is not None:
            await state_editor.client.execute_script(
                f'ALTER TABLE "{self._table}" ADD COLUMN "{self.name}" {self._sql}'
            )
