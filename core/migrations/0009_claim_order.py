"""Claims read the outbox in (priority, next_attempt_at, id) order: the index now ends in id, so a
broadcast's rows, which all tie on time, are read in order instead of sorted on every claim.

On SQLite, 0004 rebuilt the delivery table (its AlterField) and Tortoise did not recreate the
table's indexes: the old index may be missing (dropped if present), and the broadcast index is
recreated where it is missing.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

OLD_CLAIM_INDEX = "idx_delivery_status_d9bdd0"
BROADCAST_INDEX = "idx_delivery_broadca_b69f7f"


class _RemoveIndexIfPresent(ops.RemoveIndex):
    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        if state_editor:
            await state_editor.client.execute_script(f'DROP INDEX IF EXISTS "{OLD_CLAIM_INDEX}"')


async def _restore_broadcast_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script(
        f'CREATE INDEX IF NOT EXISTS "{BROADCAST_INDEX}" ON "delivery" ("broadcast_id", "status")'
    )


async def _nothing(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    pass


class Migration(migrations.Migration):
    dependencies = [("core", "0008_inbound")]

    initial = False

    operations = [
        _RemoveIndexIfPresent(model_name="Delivery", fields=["status", "priority", "next_attempt_at"]),
        ops.AddIndex(model_name="Delivery", index=Index(fields=["status", "priority", "next_attempt_at", "id"])),
        ops.RunPython(_restore_broadcast_index, _nothing),
    ]
