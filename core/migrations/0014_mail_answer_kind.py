"""Answers to incoming mail become deliveries of kind ``mail_answer``; their own table goes.

The answers not yet sent move to the outbox first (their address and text resealed into the
delivery's payload, which needs the keyring: ``mimamori db upgrade`` installs it), to be sent on
the one retry schedule. As in 0013, only the kind's description changes on ``delivery``.
"""

import json
import secrets
from datetime import UTC, datetime, timedelta

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from core import sealing
from core.db import placeholder
from core.migrations._notice_kinds import kinds_described
from core.models.enums import NoticeKind

_GIVEN_UP_AFTER = 8  # attempts: what mail.replies allowed an answer before this migration
_KEEP = timedelta(hours=12)  # core.delivery.outbox.REPLY_KEEP, as it was when this was written


async def _move_unsent_answers(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    rows = await client.execute_query_dict(
        f"SELECT id, to_address, subject, text, in_reply_to FROM mail_reply"
        f" WHERE sent_at IS NULL AND attempts < {_GIVEN_UP_AFTER} ORDER BY id"
    )
    if not rows:
        return
    try:
        sealer = sealing.installed()
    except sealing.NotInstalledError:
        raise RuntimeError("moving unsent mail answers needs the keyring: run `mimamori db upgrade`") from None
    marks = ", ".join(placeholder(client.capabilities.dialect, n) for n in range(1, 9))
    now = datetime.now(UTC)
    for row in rows:
        payload = {
            "to": sealer.unseal_text(bytes(row["to_address"]), "mail_reply.to_address"),
            "subject": row["subject"],
            "text": sealer.unseal_text(bytes(row["text"]), "mail_reply.text"),
            "in_reply_to": row["in_reply_to"],
        }
        await client.execute_query(
            "INSERT INTO delivery (idempotency_key, kind, channel, priority, payload, next_attempt_at, expires_at,"
            f" queued_at, status, attempts) VALUES ({marks}, 'queued', 0)",
            [
                f"mail-answer:{secrets.token_urlsafe(32)}",
                NoticeKind.MAIL_ANSWER.value,
                "email",
                0,  # Priority.URGENT
                sealer.seal_text(json.dumps(payload, ensure_ascii=False), "delivery.payload"),
                now,
                now + _KEEP,
                now,
            ],
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0013_reply_kind")]

    initial = False

    operations = [
        kinds_described(
            "PASSAGE: passage\nBROADCAST: broadcast\nVERIFICATION: verification\nSTAFF: staff\n"
            "ADDRESS_INACTIVE: address_inactive\nREPLY: reply\nMAIL_ANSWER: mail_answer"
        ),
        ops.RunPython(_move_unsent_answers),
        ops.DeleteModel(name="MailReply"),
    ]
