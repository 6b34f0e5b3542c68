from tortoise import fields
from tortoise.models import Model

from core.fields import SealedText


class MailboxState(Model):
    """How far the inbound mailbox has been read: the last UID handled under one UIDVALIDITY."""

    id = fields.IntField(primary_key=True)
    mailbox = fields.CharField(max_length=255, unique=True)  # user@host/MAILBOX
    uidvalidity = fields.BigIntField()
    last_uid = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "mailbox_state"


class MailReply(Model):
    """An answer to an incoming mail, written with the handling of that mail and sent after.

    Answers go to any sender (a wrong code, an unknown address), so they have no contact address
    and are not deliveries.
    """

    id = fields.BigIntField(primary_key=True)
    to_address = SealedText()
    subject = fields.CharField(max_length=200)
    text = SealedText()
    in_reply_to = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField()
    attempts = fields.SmallIntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    last_error: str | None = fields.TextField(
        null=True
    )  # typed by hand: Tortoise types a TextField as str even when null

    class Meta:
        table = "mail_reply"
        indexes = (("sent_at", "next_attempt_at"),)
