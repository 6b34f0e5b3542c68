from tortoise import fields
from tortoise.models import Model

from core.models.enums import Channel
from core.models.staff import StaffAccount


class ChatEvent(Model):
    """A webhook event or bot update already handled, so a redelivered one is processed once."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharEnumField(Channel, max_length=10)
    event_id = fields.CharField(max_length=100)
    received_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "chat_event"
        unique_together = (("channel", "event_id"),)


class StaffLinkCode(Model):
    """A one-time code from the portal that links the chat it is sent from to a staff account."""

    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="link_codes", on_delete=fields.CASCADE
    )
    staff_id: int
    code_index = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_link_code"
