from datetime import time
from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.fields import LocalTimeField
from core.models.enums import SiteKind


class Site(Model):
    """A school (with a camera at its gate) or a children's hall (no camera)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    kind = fields.CharEnumField(SiteKind, max_length=10)
    has_camera = fields.BooleanField(default=True)
    timezone = fields.CharField(max_length=40, default="Asia/Tokyo")
    cutoff = LocalTimeField(default=time(12, 0))  # a first passage after this is 下校
    check_time = LocalTimeField(default=time(8, 40))  # pupils neither seen nor reported by now are "not seen"
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "site"


class Gate(Model):
    """A tag reader (and camera, at schools) at one site's entrance, authenticating by key."""

    id = fields.IntField(primary_key=True)
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "core.Site", related_name="gates", on_delete=fields.RESTRICT
    )
    site_id: int
    name = fields.CharField(max_length=100)
    key_hash = fields.CharField(max_length=64, unique=True)  # SHA-256 of a 256-bit random key
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    last_heartbeat_at = fields.DatetimeField(null=True)
    health: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)  # the last heartbeat
    down_since = fields.DatetimeField(null=True)

    class Meta:
        table = "gate"
        unique_together = (("site", "name"),)
