"""Pacing by recipient group: addresses and the outbox get a ``lane``; one person's own notices rank
above urgent broadcasts.

``contact_address.lane`` is the group the channel gives the address (core.channels: "docomo",
"gmail", "other", "all" for a chat): a category, not personal data, so plaintext. Existing mail
addresses are unsealed to find theirs, which needs the keyring (``mimamori db upgrade`` installs
it). Unsent deliveries take their address's lane; the rest keep "" (history, and the few unsent
answers and staff notices, which the worker paces as a lane of their own).

Priorities: passages, verification and answers were URGENT (0) with urgent broadcasts; they are
TRANSACTIONAL (0) now and every other rank moves down one. Only unsent rows are renumbered: nothing
reads the priority of a sent one.

The columns are added in place with a default (Tortoise would add a NOT NULL column without one,
which fails on a table with rows, and SQLite would rebuild the outbox and lose its indexes, see 0009).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from core import sealing
from core.channels import CHANNELS
from core.db import placeholder
from core.migrations._columns import AddColumnWithDefault

_UNSENT = "status IN ('queued', 'sending')"
_TRANSACTIONAL_KINDS = "'passage', 'verification', 'reply', 'mail_answer'"
_CHUNK = 500


def _add_lane(table: str, model_name: str, field: fields.CharField[str]) -> AddColumnWithDefault:
    return AddColumnWithDefault(table, model_name, "lane", field, "VARCHAR(64) NOT NULL DEFAULT ''")


async def _fill_address_lanes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    by_lane: dict[str, list[int]] = {}
    for channel, spec in CHANNELS.items():
        if len(spec.lanes) == 1:  # one lane for every address: no need to read them
            await client.execute_query(
                f"UPDATE contact_address SET lane = {placeholder(dialect, 1)} WHERE channel = {placeholder(dialect, 2)}",
                [spec.lanes[0], channel.value],
            )
            continue
        rows = await client.execute_query_dict(
            f"SELECT id, value FROM contact_address WHERE channel = {placeholder(dialect, 1)}", [channel.value]
        )
        if not rows:
            continue
        try:
            sealer = sealing.installed()
        except sealing.NotInstalledError:
            raise RuntimeError(
                "finding the mail group of each address needs the keyring: run `mimamori db upgrade`"
            ) from None
        for row in rows:
            value = sealer.unseal_text(bytes(row["value"]), "contact_address.value")
            by_lane.setdefault(spec.lane(spec.normalise(value)), []).append(row["id"])
    for lane, ids in by_lane.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join(placeholder(dialect, n) for n in range(2, len(chunk) + 2))
            await client.execute_query(
                f"UPDATE contact_address SET lane = {placeholder(dialect, 1)} WHERE id IN ({marks})", [lane, *chunk]
            )


async def _unsent_deliveries(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script(
        "UPDATE delivery SET lane = (SELECT a.lane FROM contact_address a WHERE a.id = delivery.address_id)"
        f" WHERE {_UNSENT} AND address_id IS NOT NULL;"
        f" UPDATE delivery SET priority = CASE WHEN kind IN ({_TRANSACTIONAL_KINDS}) THEN 0 ELSE priority + 1 END"
        f" WHERE {_UNSENT}"
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0015_broadcasts_stopped"), ("core", "0015_languages")]

    initial = False

    operations = [
        _add_lane("contact_address", "ContactAddress", fields.CharField(max_length=64)),
        _add_lane("delivery", "Delivery", fields.CharField(default="", max_length=64)),
        ops.RunPython(_fill_address_lanes),
        ops.RunPython(_unsent_deliveries),
    ]
