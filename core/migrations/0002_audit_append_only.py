"""The audit log refuses UPDATE and DELETE in the database itself (the hash chain detects the rest)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

_SQLITE = [
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END",
]
_POSTGRES = [
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
]


async def _forbid_changes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    statements = _SQLITE if client.capabilities.dialect == "sqlite" else _POSTGRES
    for statement in statements:
        await client.execute_script(statement)


async def _allow_changes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        await client.execute_script("DROP TRIGGER audit_entry_no_update")
        await client.execute_script("DROP TRIGGER audit_entry_no_delete")
    else:
        await client.execute_script("DROP TRIGGER audit_entry_append_only ON audit_entry")
        await client.execute_script("DROP FUNCTION audit_entry_append_only()")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [ops.RunPython(_forbid_changes, _allow_changes)]
