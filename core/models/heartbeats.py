"""The last round of each long-running part of each process, for readiness across processes."""

from tortoise import fields
from tortoise.models import Model


class PartHeartbeat(Model):
    """One part ("delivery", "inbound", …) of one process (host and pid: no personal data)."""

    id = fields.IntField(primary_key=True)
    part = fields.CharField(max_length=32)
    process = fields.CharField(max_length=128)
    last_round_at = fields.DatetimeField(null=True)
    failing_since = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=200, null=True)
    written_at = fields.DatetimeField()

    class Meta:
        table = "part_heartbeat"
        unique_together = (("part", "process"),)
