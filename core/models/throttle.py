from tortoise import fields
from tortoise.models import Model


class ThrottleState(Model):
    """Recent failures for one key (an account, a client address, a chat), keyed by blind index."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    failures = fields.IntField(default=0)
    last_failure_at = fields.DatetimeField()
    blocked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "throttle_state"
