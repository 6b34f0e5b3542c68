from tortoise import fields
from tortoise.models import Model

from core.fields import SealedText
from core.models.enums import LANE_LENGTH, AddressStatus, Channel
from core.models.people import Guardian


class ContactAddress(Model):
    """One of a guardian's addresses. A verified one holds a slot (1..limit), see core.addresses."""

    id = fields.IntField(primary_key=True)
    guardian: fields.ForeignKeyRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="addresses", on_delete=fields.CASCADE
    )
    guardian_id: int
    channel = fields.CharEnumField(Channel, max_length=10)
    value = SealedText()
    value_index = fields.CharField(max_length=64, db_index=True)
    # the pacing group its channel gives the value (core.channels): a category such as "docomo",
    # not personal data, so plaintext; the fan-out reads it without unsealing the value
    lane = fields.CharField(max_length=LANE_LENGTH)
    slot = fields.SmallIntField(null=True)
    status = fields.CharEnumField(AddressStatus, max_length=10, default=AddressStatus.PENDING)
    verified_at = fields.DatetimeField(null=True)
    verification_code_index = fields.CharField(max_length=64, unique=True, null=True)
    # when its owner stopped broadcasts to it (a broadcast's unsubscribe link); passage notices still go
    broadcasts_stopped_at = fields.DatetimeField(null=True)
    failure_count = fields.IntField(default=0)
    last_failure: str | None = fields.TextField(
        null=True
    )  # typed by hand: Tortoise types a TextField as str even when null
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_address"
        unique_together = (("guardian", "slot"), ("guardian", "channel", "value_index"))
