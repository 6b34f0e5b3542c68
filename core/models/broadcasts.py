from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.models.enums import BroadcastCategory, BroadcastStatus
from core.models.people import Guardian
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
    ack_requested = fields.BooleanField(default=False)
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


class BroadcastAck(Model):
    id = fields.IntField(primary_key=True)
    broadcast: fields.ForeignKeyRelation[Broadcast] = fields.ForeignKeyField(
        "core.Broadcast", related_name="acks", on_delete=fields.CASCADE
    )
    broadcast_id: int
    guardian: fields.ForeignKeyRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="broadcast_acks", on_delete=fields.CASCADE
    )
    guardian_id: int
    acknowledged_at = fields.DatetimeField(auto_now_add=True)
    channel = fields.CharField(max_length=10, null=True)

    class Meta:
        table = "broadcast_ack"
        unique_together = (("broadcast", "guardian"),)
