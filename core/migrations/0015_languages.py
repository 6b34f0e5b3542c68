"""Five more languages for guardians (and their tags, up to ``ja-x-easy``): ``language`` grows to 10.

PostgreSQL widens the column in place. SQLite does not enforce a VARCHAR's length, so there only the
recorded state changes: an AlterField would rebuild the guardian and staff tables (see 0009).
"""

from tortoise import fields, migrations
from tortoise.fields.base import Field
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State

from core.models.enums import Language

_TABLES = {"Guardian": "guardian", "StaffAccount": "staff_account"}
_LENGTH = 10


class _Widened(ops.AlterField):
    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        await self._set_length(state_editor, _LENGTH)

    async def database_backward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        await self._set_length(state_editor, 2)

    async def _set_length(self, state_editor: BaseSchemaEditor | None, length: int) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect != "postgres":
            return
        table = _TABLES[self.model_name]
        await state_editor.client.execute_script(
            f'ALTER TABLE "{table}" ALTER COLUMN "language" TYPE VARCHAR({length})'
        )


def _language_field() -> Field[Language]:
    return fields.CharEnumField(
        default=Language.JA,
        description="JA: ja\nJA_EASY: ja-x-easy\nEN: en\nZH_HANS: zh-Hans\nPT_BR: pt-BR\nVI: vi\nFIL: fil",
        enum_type=Language,
        max_length=_LENGTH,
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0014_mail_answer_kind")]

    initial = False

    operations = [_Widened(model_name=model, name="language", field=_language_field()) for model in _TABLES]
