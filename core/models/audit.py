from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Append-only and hash-chained, each entry's hash covers its fields and the previous hash."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=80)
    action = fields.CharField(max_length=60, db_index=True)
    target = fields.CharField(max_length=120, null=True)
    reason: str | None = fields.TextField(null=True)  # typed by hand: Tortoise types a TextField as str even when null
    details: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_entry"
