from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.fields import SealedText
from core.models.enums import BroadcastCategory, BroadcastStatus
from core.models.people import Guardian, Pupil
from core.models.staff import StaffAccount


class Broadcast(Model):
    """An alert to every guardian in scope, a draft until explicitly confirmed."""

    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="broadcasts", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    scope: fields.JSONField[dict[str, Any]] = fields.JSONField()
    category = fields.CharEnumField(BroadcastCategory, max_length=20)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    # staff's translations, {language: {"title": …, "body": …}} (core.delivery.broadcast_message);
    # not personal data, so as plain as the title and body
    translations: fields.JSONField[dict[str, dict[str, str]] | None] = fields.JSONField(null=True)
    # asks its recipients to answer: ``question`` holds the choices (core.questions), one
    # ("確認しました") for an acknowledgement; both are set together by create_draft, never apart
    ack_requested = fields.BooleanField(default=False)
    question: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    question_closed_at = fields.DatetimeField(null=True)  # answers are no longer taken
    is_drill = fields.BooleanField(default=False)  # 訓練: marked in every text, apart in statistics
    drill_escalates = fields.BooleanField(default=False)  # a drill reaches the other address only if it says so
    status = fields.CharEnumField(BroadcastStatus, max_length=12, default=BroadcastStatus.DRAFT)
    created_at = fields.DatetimeField(auto_now_add=True)
    confirmed_at = fields.DatetimeField(null=True)
    confirmed_by: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount",
        related_name="confirmed_broadcasts",
        null=True,
        on_delete=fields.SET_NULL,
    )
    confirmed_by_id: int | None
    fanout_cursor = fields.IntField(default=0)  # last guardian id fanned out to
    fanned_out_at = fields.DatetimeField(null=True)

    class Meta:
        table = "broadcast"


class BroadcastAnswer(Model):
    """The answer that counts for one pupil: the latest, by either guardian (history in
    ``BroadcastAnswerChange``)."""

    id = fields.IntField(primary_key=True)
    broadcast: fields.ForeignKeyRelation[Broadcast] = fields.ForeignKeyField(
        "core.Broadcast", related_name="answers", on_delete=fields.CASCADE
    )
    broadcast_id: int
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="broadcast_answers", on_delete=fields.CASCADE
    )
    pupil_id: int
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="broadcast_answers", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None
    choice = fields.SmallIntField()  # index into the broadcast's question's choices
    note = SealedText(null=True)  # free text, if the question allows it: may be health information
    channel = fields.CharField(max_length=10, null=True)  # where it was answered: a channel or "portal"
    answered_at = fields.DatetimeField()

    class Meta:
        table = "broadcast_answer"
        unique_together = (("broadcast", "pupil"),)


class BroadcastAnswerChange(Model):
    """Every answer given, in order: what the counted answer replaced."""

    id = fields.BigIntField(primary_key=True)
    broadcast: fields.ForeignKeyRelation[Broadcast] = fields.ForeignKeyField(
        "core.Broadcast", related_name="answer_changes", on_delete=fields.CASCADE
    )
    broadcast_id: int
    pupil: fields.ForeignKeyRelation[Pupil] = fields.ForeignKeyField(
        "core.Pupil", related_name="broadcast_answer_changes", on_delete=fields.CASCADE
    )
    pupil_id: int
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="broadcast_answer_changes", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None
    choice = fields.SmallIntField()
    note = SealedText(null=True)
    channel = fields.CharField(max_length=10, null=True)
    answered_at = fields.DatetimeField()

    class Meta:
        table = "broadcast_answer_change"


class QuestionTemplate(Model):
    """A question staff saved to ask again (besides the built-in ones, core.questions)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    question: fields.JSONField[dict[str, Any]] = fields.JSONField()  # as Broadcast.question
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "question_template"
