from tortoise import fields
from tortoise.models import Model

from core.fields import SealedText
from core.models.addresses import ContactAddress
from core.models.broadcasts import Broadcast
from core.models.enums import LANE_LENGTH, Channel, DeliveryStatus, NoticeKind, Priority
from core.models.passages import Passage
from core.models.people import Guardian
from core.models.staff import StaffAddress


class Delivery(Model):
    """The outbox, one notice to one address, written with the fact that caused it."""

    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=100, unique=True)
    kind = fields.CharEnumField(NoticeKind, max_length=20)
    channel = fields.CharEnumField(Channel, max_length=10)
    priority = fields.SmallIntField(default=Priority.NORMAL.value)  # lower is claimed first
    lane = fields.CharField(max_length=LANE_LENGTH, default="")  # the address's pacing group, see ContactAddress
    address: fields.ForeignKeyNullableRelation[ContactAddress] = fields.ForeignKeyField(
        "core.ContactAddress", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    address_id: int | None
    staff_address: fields.ForeignKeyNullableRelation[StaffAddress] = fields.ForeignKeyField(
        "core.StaffAddress", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    staff_address_id: int | None
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    guardian_id: int | None
    passage: fields.ForeignKeyNullableRelation[Passage] = fields.ForeignKeyField(
        "core.Passage", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    passage_id: int | None
    broadcast: fields.ForeignKeyNullableRelation[Broadcast] = fields.ForeignKeyField(
        "core.Broadcast", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    broadcast_id: int | None
    payload = SealedText(null=True)  # JSON: what the template needs beyond the linked rows
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.QUEUED)
    attempts = fields.SmallIntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    last_error: str | None = fields.TextField(
        null=True
    )  # typed by hand: Tortoise types a TextField as str even when null
    provider_message_id = fields.CharField(max_length=255, null=True)
    queued_at = fields.DatetimeField(auto_now_add=True)
    first_tried_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    ack_token = fields.CharField(max_length=64, unique=True, null=True)

    class Meta:
        table = "delivery"
        # (guardian_id, broadcast_id): "was this broadcast sent to this guardian", asked by every answer
        indexes = (
            ("status", "priority", "next_attempt_at", "id"),
            ("broadcast_id", "status"),
            ("guardian_id", "broadcast_id"),
        )
