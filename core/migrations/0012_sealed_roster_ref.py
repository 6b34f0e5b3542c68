"""guardian.roster_ref is sealed and found by a blind index; stored failure reasons lose what a
peer's reply quoted (an address, a chat id, a name), and Telegram message ids their chat id.

Sealing needs the keyring: ``mimamori db upgrade`` installs it when there is one. Old reasons
keep our leading words and the reply codes only: "mail server refused (550 5.1.1)".

The column changes type in place: Tortoise's SQLite migrator would rebuild the table, and
dropping the old one with foreign keys on deletes every guardian's addresses (ON DELETE CASCADE).
"""

import re

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

from core import sealing
from core.db import placeholder
from core.fields import SealedText
from core.roster.apply import guardian_key

_OUR_WORDS = re.compile(r"[A-Za-z][A-Za-z ]*")
_CODES = re.compile(r"(?<![\w.])(?:[245]\d\d|[245]\.\d{1,3}\.\d{1,3})(?![\w.])")
_REASONS = (("delivery", "last_error"), ("contact_address", "last_failure"), ("mail_reply", "last_error"))
_TELEGRAM_IDS = {
    "sqlite": "UPDATE delivery SET provider_message_id = substr(provider_message_id, instr(provider_message_id, ':') + 1)"
    " WHERE channel = 'telegram' AND instr(provider_message_id, ':') > 0",
    "postgres": "UPDATE delivery SET provider_message_id = split_part(provider_message_id, ':', 2)"
    " WHERE channel = 'telegram' AND strpos(provider_message_id, ':') > 0",
}


def _redacted(reason: str) -> str:
    words = _OUR_WORDS.match(reason)
    codes = " ".join(dict.fromkeys(_CODES.findall(reason)))
    text = words[0].strip() if words else "failed"
    return f"{text} ({codes})" if codes else text


class _SealInPlace(ops.AlterField):
    """SQLite keeps a BLOB in a column of any declared type (its UNIQUE stays, harmless: no two
    sealed values are equal); PostgreSQL changes the type, the text kept as its UTF-8 bytes."""

    async def database_forward(
        self, app_label: str, old_state: State, new_state: State, state_editor: BaseSchemaEditor | None = None
    ) -> None:
        if state_editor is None or state_editor.client.capabilities.dialect == "sqlite":
            return
        client = state_editor.client
        for row in await client.execute_query_dict(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'guardian'::regclass AND contype = 'u'"
            " AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'guardian'::regclass"
            " AND attname = 'roster_ref')]"
        ):
            await client.execute_script(f'ALTER TABLE guardian DROP CONSTRAINT "{row["conname"]}"')
        await client.execute_script(
            "ALTER TABLE guardian ALTER COLUMN roster_ref TYPE BYTEA USING convert_to(roster_ref, 'UTF8')"
        )


async def _seal_and_redact(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    p1, p2, p3 = (placeholder(dialect, n) for n in (1, 2, 3))
    rows = await client.execute_query_dict("SELECT id, roster_ref FROM guardian WHERE roster_ref IS NOT NULL")
    if rows:
        try:
            sealer = sealing.installed()
        except sealing.NotInstalledError:
            raise RuntimeError("sealing guardian.roster_ref needs the keyring: run `mimamori db upgrade`") from None
        for row in rows:
            stored = row["roster_ref"]
            ref = bytes(stored).decode("utf-8") if isinstance(stored, bytes | memoryview) else str(stored)
            await client.execute_query(
                f"UPDATE guardian SET roster_ref = {p1}, roster_ref_index = {p2} WHERE id = {p3}",
                [sealer.seal_text(ref, "guardian.roster_ref"), guardian_key(ref), row["id"]],
            )
    for table, column in _REASONS:
        for row in await client.execute_query_dict(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"):
            await client.execute_query(
                f"UPDATE {table} SET {column} = {p1} WHERE id = {p2}", [_redacted(row[column]), row["id"]]
            )
    await client.execute_script(_TELEGRAM_IDS["sqlite" if dialect == "sqlite" else "postgres"])


class Migration(migrations.Migration):
    dependencies = [("core", "0011_heartbeats")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Guardian",
            name="roster_ref_index",
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        _SealInPlace(model_name="Guardian", name="roster_ref", field=SealedText(null=True)),
        ops.RunPython(_seal_and_redact),
    ]
