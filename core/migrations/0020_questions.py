"""Questions (issue 20): a broadcast may ask a question with 2–5 answers, or one ("確認しました"),
which is what an acknowledgement now is; answers are per pupil (the counted one, and every one
given); questions staff saved; drills.

The acknowledgements before this become answers: the broadcasts that asked get the one-answer
question, and each guardian's acknowledgement answers it for each of their children (the first to
acknowledge counts when two guardians of a child did), at its own time and channel. Then the
acknowledgement table goes.

The flags are added in place with a default (see 0016).
"""

import functools
import json
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from core.fields import SealedText
from core.migrations._columns import AddColumnWithDefault

# core.questions.ACKNOWLEDGEMENT as it was written here (a migration keeps its own copy)
_ACKNOWLEDGEMENT = {"choices": [{"label": "確認しました", "needs_help": False, "msgid": "Acknowledged"}], "note": False}
_ANSWER_COLUMNS = "broadcast_id, pupil_id, guardian_id, choice, channel, answered_at"
_FROM_ACKS = (
    "SELECT a.broadcast_id, gp.pupil_id, a.guardian_id, 0, a.channel, a.acknowledged_at"
    " FROM broadcast_ack a JOIN guardian_pupil gp ON gp.guardian_id = a.guardian_id"
)


async def _acknowledgements_to_answers(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    dialect = client.capabilities.dialect
    marker = "?" if dialect == "sqlite" else "$1"
    await client.execute_query(
        f"UPDATE broadcast SET question = {marker} WHERE ack_requested",
        [json.dumps(_ACKNOWLEDGEMENT, ensure_ascii=False)],
    )
    ordered = f"{_FROM_ACKS} ORDER BY a.acknowledged_at, a.id"
    if dialect == "sqlite":
        first = f"INSERT OR IGNORE INTO broadcast_answer ({_ANSWER_COLUMNS}) {ordered}"
    else:
        first = f"INSERT INTO broadcast_answer ({_ANSWER_COLUMNS}) {ordered} ON CONFLICT DO NOTHING"
    await client.execute_script(f"{first}; INSERT INTO broadcast_answer_change ({_ANSWER_COLUMNS}) {ordered}")


class Migration(migrations.Migration):
    dependencies = [("core", "0019_attendance")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BroadcastAnswer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "broadcast",
                    fields.ForeignKeyField(
                        "core.Broadcast",
                        source_field="broadcast_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="answers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcast_answers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcast_answers",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("choice", fields.SmallIntField()),
                ("note", SealedText(null=True)),
                ("channel", fields.CharField(null=True, max_length=10)),
                ("answered_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "broadcast_answer",
                "app": "core",
                "unique_together": (("broadcast", "pupil"),),
                "pk_attr": "id",
                "table_description": "The answer that counts for one pupil: the latest, by either guardian (history in",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BroadcastAnswerChange",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "broadcast",
                    fields.ForeignKeyField(
                        "core.Broadcast",
                        source_field="broadcast_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="answer_changes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "pupil",
                    fields.ForeignKeyField(
                        "core.Pupil",
                        source_field="pupil_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcast_answer_changes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "guardian",
                    fields.ForeignKeyField(
                        "core.Guardian",
                        source_field="guardian_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="broadcast_answer_changes",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("choice", fields.SmallIntField()),
                ("note", SealedText(null=True)),
                ("channel", fields.CharField(null=True, max_length=10)),
                ("answered_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "broadcast_answer_change",
                "app": "core",
                "pk_attr": "id",
                "table_description": "Every answer given, in order: what the counted answer replaced.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QuestionTemplate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=100)),
                ("question", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "question_template",
                "app": "core",
                "pk_attr": "id",
                "table_description": "A question staff saved to ask again (besides the built-in ones, core.questions).",
            },
            bases=["Model"],
        ),
        AddColumnWithDefault(
            "broadcast",
            "Broadcast",
            "drill_escalates",
            fields.BooleanField(default=False),
            "BOOLEAN NOT NULL DEFAULT FALSE",
        ),
        AddColumnWithDefault(
            "broadcast", "Broadcast", "is_drill", fields.BooleanField(default=False), "BOOLEAN NOT NULL DEFAULT FALSE"
        ),
        ops.AddField(
            model_name="Broadcast",
            name="question",
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
        ),
        ops.AddField(
            model_name="Broadcast",
            name="question_closed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(_acknowledgements_to_answers),
        ops.DeleteModel(name="BroadcastAck"),
    ]
