from tortoise import fields
from tortoise.models import Model

from core.fields import SealedText
from core.models.enums import Channel, Language, StaffRole
from core.models.sites import Site


class StaffAccount(Model):
    """School or board staff, the support desk, or an administrator (all need a second factor)."""

    id = fields.IntField(primary_key=True)
    login_id = fields.CharField(max_length=64, unique=True)
    role = fields.CharEnumField(StaffRole, max_length=10)
    display_name = SealedText(null=True)
    password_hash = fields.CharField(max_length=255)
    must_change_password = fields.BooleanField(default=True)
    password_changed_at = fields.DatetimeField(null=True)
    failed_logins = fields.IntField(default=0)
    throttled_until = fields.DatetimeField(null=True)
    totp_secret = SealedText(null=True)  # base32, as in otpauth:// URIs
    totp_enrolled_at = fields.DatetimeField(null=True)
    totp_last_step = fields.BigIntField(null=True)  # refuses a replayed code
    language = fields.CharEnumField(Language, max_length=10, default=Language.JA)
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    sites: fields.ManyToManyRelation[Site] = fields.ManyToManyField(
        "core.Site", related_name="staff", through="staff_site"
    )

    class Meta:
        table = "staff_account"


class StaffAddress(Model):
    """A staff member's own mail address or chat, for alerts sent by mail or bot."""

    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffAccount] = fields.ForeignKeyField(
        "core.StaffAccount", related_name="addresses", on_delete=fields.CASCADE
    )
    staff_id: int
    channel = fields.CharEnumField(Channel, max_length=10)
    value = SealedText()
    value_index = fields.CharField(max_length=64)
    verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_address"
        unique_together = (("channel", "value_index"),)
