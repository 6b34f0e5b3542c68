from tortoise import fields
from tortoise.models import Model

from core.models.people import Guardian
from core.models.staff import StaffAccount


class PortalSession(Model):
    """A logged-in browser, known by the SHA-256 of its cookie token (the token is never stored)."""

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    guardian: fields.ForeignKeyNullableRelation[Guardian] = fields.ForeignKeyField(
        "core.Guardian", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    guardian_id: int | None
    staff: fields.ForeignKeyNullableRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    staff_id: int | None
    csrf_token = fields.CharField(max_length=64)
    second_factor_done = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "portal_session"
        indexes = (("guardian_id",), ("staff_id",), ("last_seen_at",))
