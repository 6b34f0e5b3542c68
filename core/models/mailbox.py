from tortoise import fields
from tortoise.models import Model


class MailboxState(Model):
    """How far the inbound mailbox has been read: the last UID handled under one UIDVALIDITY."""

    id = fields.IntField(primary_key=True)
    mailbox = fields.CharField(max_length=255, unique=True)  # user@host/MAILBOX
    uidvalidity = fields.BigIntField()
    last_uid = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "mailbox_state"
